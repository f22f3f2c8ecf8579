#include "evaluate-worker.h"

#include "../util/js-args.h"

namespace lg {

Napi::Object PrefillToJs(Napi::Env env, const PrefillResult& r) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("nPast", r.n_past);
    o.Set("promptTokens", r.n_tokens);
    o.Set("imageTokens", r.n_image_tokens);
    o.Set("imageMs", r.image_ms);
    o.Set("promptMs", r.prompt_ms);
    o.Set("forwardPasses", r.forward_passes);
    return o;
}

Napi::Value EvaluateWorker::Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res) {
    Napi::Env env = info.Env();
    Napi::Object req = RequireObject(info, 0, "evaluate request");
    return FillThenQueue(new EvaluateWorker(env, std::move(res)), [&](EvaluateWorker& w) {
        w.seq_ = static_cast<llama_seq_id>(OptionalInt(req, "sequence", 0, 0, w.lease_->n_seq - 1));
        w.n_past_ = static_cast<llama_pos>(OptionalInt(req, "nPast", 0, 0, llama_n_ctx_seq(w.lease_->ctx.get())));
        Napi::Value prompt = req.Get("prompt");
        if (!prompt.IsObject()) ThrowType(env, "option 'prompt' must be an object");
        w.prompt_ = ParsePromptInput(prompt.As<Napi::Object>(), *w.lease_->model);
        w.abort_ = AbortHandle::FromValue(req.Get("abort"));
        w.return_logits_ = OptionalBool(req, "logits", false);
    });
}

EvaluateWorker::EvaluateWorker(Napi::Env env, std::shared_ptr<ContextResources> res)
    : ContextWorker(env, "llavaguard.evaluate", std::move(res)) {}

void EvaluateWorker::Compute() {
    lease_->current_abort.store(abort_.get());
    llama_memory_seq_rm(llama_get_memory(lease_->ctx.get()), seq_, n_past_, -1);
    result_ = Prefill(*lease_, seq_, n_past_, prompt_, return_logits_, *abort_);
    lease_->current_abort.store(nullptr);
    if (result_.ok && return_logits_) {
        const float* logits = llama_get_logits_ith(lease_->ctx.get(), -1);
        if (logits) logits_.assign(logits, logits + llama_vocab_n_tokens(lease_->model->vocab));
    }
    if (!result_.ok) {
        // Leave no half-evaluated prompt behind.
        llama_memory_seq_rm(llama_get_memory(lease_->ctx.get()), seq_, n_past_, -1);
        if (result_.aborted) {
            SetAbortError(result_.error);
        } else {
            SetError(result_.error);
        }
    }
}

Napi::Value EvaluateWorker::Result(Napi::Env env) {
    Napi::Object out = PrefillToJs(env, result_);
    if (return_logits_) {
        Napi::Float32Array logits = Napi::Float32Array::New(env, logits_.size());
        std::copy(logits_.begin(), logits_.end(), logits.Data());
        out.Set("logits", logits);
    }
    return out;
}

}  // namespace lg
