// A ComputeWorker on a context: it holds the context's BusyLease from its creation (JS thread) to its
// completion and settles one promise. The lease is released before the promise settles, so that JS code run by
// the settlement may start the next operation on the context.
#pragma once
#include <napi.h>

#include <memory>

#include "../util/compute-worker.h"
#include "busy-lease.h"

namespace lg {

class ContextWorker : public ComputeWorker {
 public:
    // Queues the worker; the promise settles with Result(), or rejects with the error (code ABORT_ERR if Aborted()).
    Napi::Promise QueueWithPromise() {
        Napi::Promise promise = deferred_.Promise();
        Queue();
        return promise;
    }

 protected:
    ContextWorker(Napi::Env env, const char* name, std::shared_ptr<ContextResources> res)
        : ComputeWorker(env, name), lease_(env, std::move(res)), deferred_(Napi::Promise::Deferred::New(env)) {}
    // Built on the JS thread after Compute succeeded.
    virtual Napi::Value Result(Napi::Env env) = 0;
    virtual bool Aborted() const { return false; }

    BusyLease lease_;

 private:
    void OnOK() final {
        lease_.Release();
        deferred_.Resolve(Result(Env()));
    }
    void OnError(const Napi::Error& error) final {
        lease_.Release();
        if (Aborted()) error.Value().Set("code", "ABORT_ERR");
        deferred_.Reject(error.Value());
    }

    Napi::Promise::Deferred deferred_;
};

}  // namespace lg
