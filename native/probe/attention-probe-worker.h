// probeAttention({ cases, threads, repeats }) -> Promise<number[]>: ms per case (attention-probe.h), off the event
// loop.
#pragma once
#include <napi.h>

#include <vector>

#include "attention-probe.h"
#include "../util/compute-worker.h"

namespace lg {

class AttentionProbeWorker : public ComputeWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info);
    void OnOK() override;
    void OnError(const Napi::Error& error) override;

 private:
    void Compute() override;
    AttentionProbeWorker(Napi::Env env, std::vector<AttentionCase> cases, int32_t threads, int32_t repeats);
    std::vector<AttentionCase> cases_;
    int32_t threads_;
    int32_t repeats_;
    std::vector<double> ms_;
    Napi::Promise::Deferred deferred_;
};

}  // namespace lg
