// An AsyncWorker whose work (Compute) runs on the compute thread (compute-thread.h): the workers that run
// ggml graphs, or may (loading probes and reserves), derive from it instead of Napi::AsyncWorker.
#pragma once
#include <napi.h>

#include "compute-thread.h"

namespace lg {

class ComputeWorker : public Napi::AsyncWorker {
 protected:
    using Napi::AsyncWorker::AsyncWorker;
    virtual void Compute() = 0;

 private:
    void Execute() final {
        RunOnComputeThread([this] { Compute(); });
    }
};

}  // namespace lg
