// context.generate(requests, onToken?) -> Promise<results>: for each request, its prompt is prefilled (one
// after another, each sampled right after its own prefill, since logits only exist for the latest decode),
// then the decode steps of all live sequences are batched into one llama_decode each, every sequence with its
// own sampler chain and grammar. Tokens the grammar forces are appended without a forward pass of their own
// and evaluated in one batch with the next step (jump-forward decoding); so are drafts (draft-proposer.h),
// which are kept only as far as sampling at each of their positions confirms them. Tokens stream to JS through a
// thread-safe function with a queue of one, so the worker is never more than one token ahead of JS: an abort
// raised from onToken stops within one token.
//
// Continuous mode (generate(requests, onEvent, { continuous: true })): requests join the running loop between
// decode steps. context.admit(requests) puts them in the loop's AdmissionQueue (false once the loop has ended);
// at each step boundary the loop prefills them one after another, samples their first token, and adds them to
// the batch. A sequence that stops has its slot's KV cells cleared and its result sent at once, as
// onEvent(id, -1, <empty>, result) on the same queue as its tokens (so after them). The loop ends when nothing
// is live and nothing is waiting; the promise then resolves with [].
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <mutex>
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
    uint32_t id = 0;  // reported with its tokens (the request's index, or the id JS gave in continuous mode)
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

// Requests admitted into a running continuous generation, taken by its loop at the next step boundary.
struct AdmissionQueue {
    std::mutex mutex;
    std::vector<GenerateRequest> pending;
    bool accepting = true;  // false once the loop has ended (admit then answers false)
};

class GenerateWorker : public ContextWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res);
    // context.admit(requests) -> boolean: joins the running continuous generation (not busy-checked: that is
    // its purpose); false when none runs or it has ended.
    static Napi::Value Admit(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res);
    ~GenerateWorker() override;

 private:
    static GenerateRequest ParseRequest(Napi::Env env, const Napi::Value& value, ContextResources& ctx, uint32_t index,
                                        bool continuous);
    size_t MaxForced() const;
    // Prefills request i and samples its first token; adds it to live, or reports it stopped.
    void StartRequest(size_t i, std::vector<size_t>& live);
    // Continuous mode, at a step boundary: takes the admitted requests and starts them.
    void AdmitPending(std::vector<size_t>& live);
    // Continuous mode: clears the sequence's cells and sends its result to JS.
    void Finish(size_t i);
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
    bool continuous_ = false;
    std::shared_ptr<AdmissionQueue> admission_;
    Napi::ThreadSafeFunction on_token_;
    bool has_on_token_ = false;
    // Token callbacks JS has run; shared with the queued events, which may outlive a finished worker.
    std::shared_ptr<std::atomic<int64_t>> delivered_ = std::make_shared<std::atomic<int64_t>>(0);
    int64_t sent_ = 0;
};

}  // namespace lg
