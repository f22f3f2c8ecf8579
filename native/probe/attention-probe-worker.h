// probeAttention({ cases, threads, repeats }) -> Promise<number[]>: ms per case (attention-probe.h), off the event
// loop.
#pragma once
#include <napi.h>

#include <vector>

#include "attention-probe.h"
#include "../util/promise-worker.h"

namespace lg {

class AttentionProbeWorker : public PromiseWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info);

 private:
    void Compute() override;
    Napi::Value Result(Napi::Env env) override;
    AttentionProbeWorker(Napi::Env env, std::vector<AttentionCase> cases, int32_t threads, int32_t repeats);
    std::vector<AttentionCase> cases_;
    int32_t threads_;
    int32_t repeats_;
    std::vector<double> ms_;
};

}  // namespace lg
