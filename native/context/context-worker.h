// A ComputeWorker on a context: it holds the context's BusyLease from its creation (JS thread) to its
// completion and settles one promise. The lease is released before the promise settles, so that JS code run by
// the settlement may start the next operation on the context.
#pragma once
#include <napi.h>

#include <memory>

#include "../util/promise-worker.h"
#include "busy-lease.h"

namespace lg {

class ContextWorker : public PromiseWorker {
 protected:
    ContextWorker(Napi::Env env, const char* name, std::shared_ptr<ContextResources> res)
        : PromiseWorker(env, name), lease_(env, std::move(res)) {}

    void BeforeSettle() final { lease_.Release(); }

    BusyLease lease_;
};

}  // namespace lg
