// context.evaluate({ sequence, nPast, prompt, abort?, logits? }) -> Promise: prefill only (e.g. an image prefix
// that several sequences then share through copySequence), optionally returning the last position's logits.
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "../sampling/abort-handle.h"
#include "context-worker.h"
#include "prefill.h"

namespace lg {

Napi::Object PrefillToJs(Napi::Env env, const PrefillResult& r);

class EvaluateWorker : public ContextWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res);

 private:
    void Compute() override;
    Napi::Value Result(Napi::Env env) override;
    EvaluateWorker(Napi::Env env, std::shared_ptr<ContextResources> res);
    llama_seq_id seq_ = 0;
    llama_pos n_past_ = 0;
    PromptInput prompt_;
    AbortFlag abort_;
    PrefillResult result_;
    bool return_logits_ = false;
    std::vector<float> logits_;
};

}  // namespace lg
