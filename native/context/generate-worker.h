// context.generate(requests, onToken?) -> Promise<results>: for each request, its prompt is prefilled (one
// after another, each sampled right after its own prefill, since logits only exist for the latest decode),
// then the decode steps of all live sequences are batched into one llama_decode each, every sequence with its
// own sampler chain and grammar. Tokens stream to JS through a thread-safe function with a queue of one, so
// the worker is never more than one token ahead of JS: an abort raised from onToken stops within one token.
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "../sampling/abort-handle.h"
#include "busy-lease.h"
#include "prefill.h"

namespace lg {

enum class StopReason { kEog, kMaxTokens, kAbort, kContextFull, kError };

struct GenerateRequest {
    llama_seq_id seq = 0;
    llama_pos n_past = 0;
    PromptInput prompt;
    SamplerPtr sampler;
    int32_t max_tokens = 0;
    AbortFlag abort;
};

struct GenerateOutcome {
    PrefillResult prefill;
    std::vector<llama_token> tokens;
    StopReason stop = StopReason::kEog;
    std::string error;
    double decode_ms = 0;
    int32_t forward_passes = 0;  // decode calls this sequence took part in after its prefill
    llama_pos n_past = 0;
};

class GenerateWorker : public Napi::AsyncWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res);
    void Execute() override;
    void OnOK() override;
    void OnError(const Napi::Error& error) override;

 private:
    GenerateWorker(Napi::Env env, std::shared_ptr<ContextResources> res);
    bool Accept(size_t i, llama_token token);  // false: the sequence has stopped
    void Emit(size_t i, llama_token token);
    void DecodeLoop(std::vector<size_t>& live);

    BusyLease lease_;
    Napi::Promise::Deferred deferred_;
    std::vector<GenerateRequest> requests_;
    std::vector<GenerateOutcome> outcomes_;
    Napi::ThreadSafeFunction on_token_;
    bool has_on_token_ = false;
};

}  // namespace lg
