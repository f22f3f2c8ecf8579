#pragma once
#include <napi.h>

#include <memory>

#include "context-resources.h"

namespace lg {

// Held by each worker on a context from its creation (JS thread) to its completion: llama.cpp contexts are
// not re-entrant, so a second operation while one runs is refused with a clear error instead.
class BusyLease {
 public:
    BusyLease(Napi::Env env, std::shared_ptr<ContextResources> res) : res_(std::move(res)) {
        if (res_->closing.load()) throw Napi::Error::New(env, "the context is closed");
        if (res_->busy.exchange(true)) {
            res_.reset();
            throw Napi::Error::New(env,
                                   "the context is busy with another operation (calls on one context must be queued)");
        }
    }
    ~BusyLease() { Release(); }
    BusyLease(const BusyLease&) = delete;
    BusyLease& operator=(const BusyLease&) = delete;
    void Release() {
        // Once only: the destructor calls it again after OnOK, and must not clear a flag a later operation set.
        if (res_ && held_) res_->busy.store(false);
        held_ = false;
    }
    ContextResources& operator*() const { return *res_; }
    ContextResources* operator->() const { return res_.get(); }

 private:
    std::shared_ptr<ContextResources> res_;  // kept to the worker's end: its samplers use the model
    bool held_ = true;
};

}  // namespace lg
