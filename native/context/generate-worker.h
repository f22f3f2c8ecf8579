// context.generate(requests, onToken?) -> Promise<results>: for each request, its prompt is prefilled (one
// after another, each sampled right after its own prefill, since logits only exist for the latest decode),
// then the decode steps of all live sequences are batched into one llama_decode each, every sequence with its
// own sampler chain and grammar. Tokens the grammar forces are appended without a forward pass of their own
// and evaluated in one batch with the next step (jump-forward decoding); so are drafts (draft-proposer.h),
// which are kept only as far as sampling at each of their positions confirms them. Tokens stream to JS through a
// thread-safe function with a queue of one, so the worker is never more than one token ahead of JS: an abort
// raised from onToken stops within one token.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "../sampling/abort-handle.h"
#include "../sampling/draft-budget.h"
#include "../sampling/draft-proposer.h"
#include "../sampling/sequence-sampler.h"
#include "context-worker.h"
#include "prefill.h"

namespace lg {

enum class StopReason { kEog, kMaxTokens, kAbort, kContextFull, kError };

struct GenerateRequest {
    llama_seq_id seq = 0;
    llama_pos n_past = 0;
    PromptInput prompt;
    std::unique_ptr<SequenceSampler> sampler;
    std::unique_ptr<DraftProposer> drafts;  // null: no drafts
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
    int32_t forced_tokens = 0;   // tokens the grammar forced (appended without sampling)
    int32_t draft_proposed = 0;  // draft tokens evaluated
    int32_t draft_accepted = 0;  // of those, confirmed by sampling
    DraftBudget draft_budget{DraftRecord{}};
    llama_pos n_past = 0;
    std::string text;                  // generated so far, as bytes
    std::vector<llama_token> pending;  // accepted, not yet decoded
    std::vector<llama_token> draft;    // proposed after pending, not accepted
};

class GenerateWorker : public ContextWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res);

 private:
    void Compute() override;
    Napi::Value Result(Napi::Env env) override;
    GenerateWorker(Napi::Env env, std::shared_ptr<ContextResources> res);
    bool Accept(size_t i, llama_token token);  // false: the sequence has stopped
    // Samples at batch index idx, then Continue; false: stopped.
    bool SampleAndForce(size_t i, int32_t idx, size_t max_forced);
    // Accepts a sampled token, appends the tokens the grammar forces, then proposes a draft; false: stopped.
    bool Continue(size_t i, llama_token token, size_t max_forced);
    // After a decode: samples at the last pending token and at each draft token while sampling confirms the
    // draft, drops the KV cells of the rest, and continues with the first token that differs; false: stopped.
    bool Verify(size_t i, int32_t idx, size_t max_forced);
    llama_token SampleTimed(size_t i, int32_t idx);
    void ProposeDraft(size_t i, size_t room);
    void Emit(size_t i, llama_token token, const std::string& piece);
    // Waits (at most 200 ms, in case JS is shutting down) until JS has run every token callback sent so far, so
    // that an abort from a callback is seen before the next token: "stops within one token" holds even when
    // decoding is faster than the JS thread.
    void WaitDelivered();
    void DecodeLoop(std::vector<size_t>& live);

    std::vector<GenerateRequest> requests_;
    std::vector<GenerateOutcome> outcomes_;
    Napi::ThreadSafeFunction on_token_;
    bool has_on_token_ = false;
    // Token callbacks JS has run; shared with the queued events, which may outlive a finished worker.
    std::shared_ptr<std::atomic<int64_t>> delivered_ = std::make_shared<std::atomic<int64_t>>(0);
    int64_t sent_ = 0;
};

}  // namespace lg
