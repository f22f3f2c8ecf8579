// An AsyncWorker whose work (Compute) runs on the compute thread (compute-thread.h): the workers that run
// ggml graphs, or may (loading probes and reserves). Work that runs no graph but takes long (quantizing, with its
// own threads) runs on libuv's pool instead, so that it never holds the compute thread.
#pragma once
#include <napi.h>

#include "compute-thread.h"

namespace lg {

// kComputeBetweenSteps: on the compute thread, also between the steps of a running continuous decode loop.
enum class WorkerThread { kCompute, kComputeBetweenSteps, kPool };

class ComputeWorker : public Napi::AsyncWorker {
 public:
    // In a worker_thread terminated while this ran, the completion runs during the environment's teardown, when
    // no JS can run: settling the promise fails, and node-addon-api rethrows the error it cannot throw into JS.
    // Escaping into Node's C code, that exception would std::terminate() the whole process.
    void OnWorkComplete(Napi::Env env, napi_status status) override {
        try {
            Napi::AsyncWorker::OnWorkComplete(env, status);
        } catch (const Napi::Error&) {
            Destroy();  // what AsyncWorker::OnWorkComplete does after settling, which the throw skipped
        }
    }

 protected:
    ComputeWorker(Napi::Env env, const char* name, WorkerThread thread = WorkerThread::kCompute)
        : Napi::AsyncWorker(env, name), thread_(thread) {}
    virtual void Compute() = 0;

 private:
    void Execute() final {
        if (thread_ == WorkerThread::kPool) {
            Compute();
        } else {
            RunOnComputeThread([this] { Compute(); }, thread_ == WorkerThread::kComputeBetweenSteps
                                                          ? ComputeJob::kBetweenSteps
                                                          : ComputeJob::kWhole);
        }
    }

    WorkerThread thread_;
};

}  // namespace lg
