// context.evaluate({ sequence, nPast, prompt, abort? }) -> Promise: prefill only (e.g. an image prefix that
// several sequences then share through copySequence).
#pragma once
#include <napi.h>

#include <memory>

#include "../sampling/abort-handle.h"
#include "busy-lease.h"
#include "prefill.h"

namespace lg {

Napi::Object PrefillToJs(Napi::Env env, const PrefillResult& r);

class EvaluateWorker : public Napi::AsyncWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res);
    void Execute() override;
    void OnOK() override;
    void OnError(const Napi::Error& error) override;

 private:
    EvaluateWorker(Napi::Env env, std::shared_ptr<ContextResources> res);
    BusyLease lease_;
    Napi::Promise::Deferred deferred_;
    llama_seq_id seq_ = 0;
    llama_pos n_past_ = 0;
    PromptInput prompt_;
    AbortFlag abort_;
    PrefillResult result_;
};

}  // namespace lg
