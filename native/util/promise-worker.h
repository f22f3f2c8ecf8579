// The base of every native operation: a ComputeWorker that settles one promise, with Result() (built on the JS
// thread) when Compute succeeded, or the error (code ABORT_ERR when set by SetAbortError). BeforeSettle() releases what
// the operation held first, so that JS code run by the settlement can start the next operation.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "compute-worker.h"

namespace lg {

class PromiseWorker : public ComputeWorker {
 public:
    // Queues the worker and returns its promise.
    Napi::Promise QueueWithPromise() {
        Napi::Promise promise = deferred_.Promise();
        Queue();
        return promise;
    }

 protected:
    PromiseWorker(Napi::Env env, const char* name, WorkerThread thread = WorkerThread::kCompute)
        : ComputeWorker(env, name, thread), deferred_(Napi::Promise::Deferred::New(env)) {}
    virtual Napi::Value Result(Napi::Env env) = 0;
    // The end of every Start: queues `worker` once `fill` has set it up from the JS request. When `fill` throws,
    // the worker is freed (which releases what it holds, e.g. a context's lease) and the error reaches JS.
    template <typename Worker, typename Fill>
    static Napi::Promise FillThenQueue(Worker* worker, Fill fill) {
        std::unique_ptr<Worker> owned(worker);
        fill(*owned);
        return owned.release()->QueueWithPromise();
    }
    // Fails the operation as aborted: the promise rejects with code ABORT_ERR.
    void SetAbortError(const std::string& message = "aborted") {
        aborted_ = true;
        SetError(message);
    }
    virtual void BeforeSettle() {}

 private:
    void OnOK() final {
        BeforeSettle();
        deferred_.Resolve(Result(Env()));
    }
    void OnError(const Napi::Error& error) final {
        BeforeSettle();
        if (aborted_) error.Value().Set("code", "ABORT_ERR");
        deferred_.Reject(error.Value());
    }

    Napi::Promise::Deferred deferred_;
    bool aborted_ = false;
};

}  // namespace lg
