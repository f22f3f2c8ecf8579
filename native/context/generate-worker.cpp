// Over 400 lines on purpose: the decode loop, its admission and each request's finish share this worker's state.
#include "generate-worker.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "../sampling/sampler-config.h"
#include "../util/compute-thread.h"
#include "../util/js-args.h"
#include "../util/log-capture.h"
#include "../util/token-piece.h"
#include "evaluate-worker.h"

namespace lg {
namespace {

const char* StopReasonName(StopReason r) {
    switch (r) {
        case StopReason::kEog:
            return "eog";
        case StopReason::kMaxTokens:
            return "maxTokens";
        case StopReason::kAbort:
            return "abort";
        case StopReason::kContextFull:
            return "contextFull";
        case StopReason::kError:
            return "error";
    }
    return "error";
}

Napi::Object OutcomeToJs(Napi::Env env, const GenerateOutcome& out) {
    Napi::Object o = PrefillToJs(env, out.prefill);
    o.Set("nPast", out.n_past);
    o.Set("stopReason", StopReasonName(out.stop));
    if (!out.error.empty()) o.Set("error", out.error);
    Napi::Int32Array tokens = Napi::Int32Array::New(env, out.tokens.size());
    std::copy(out.tokens.begin(), out.tokens.end(), tokens.Data());
    o.Set("tokens", tokens);
    o.Set("decodeMs", out.decode_ms);
    o.Set("prefillForwardPasses", out.prefill.forward_passes);
    o.Set("forwardPasses", out.forward_passes);
    o.Set("forcedTokens", out.forced_tokens);
    o.Set("draftTokens", out.draft_proposed);
    o.Set("draftTokensAccepted", out.draft_accepted);
    return o;
}

// A token, or (continuous mode, token -1) a finished request's result.
struct TokenEvent {
    uint32_t request;
    llama_token token;
    std::string piece;
    std::shared_ptr<std::atomic<int64_t>> delivered;
    std::unique_ptr<GenerateOutcome> finished;
};

}  // namespace

GenerateRequest GenerateWorker::ParseRequest(Napi::Env env, const Napi::Value& value, ContextResources& ctx,
                                             uint32_t index, bool continuous) {
    if (!value.IsObject()) ThrowType(env, "requests[" + std::to_string(index) + "] must be an object");
    Napi::Object o = value.As<Napi::Object>();
    GenerateRequest r;
    r.id = continuous ? static_cast<uint32_t>(OptionalInt(o, "id", index, 0, UINT32_MAX)) : index;
    r.seq = static_cast<llama_seq_id>(OptionalInt(o, "sequence", index, 0, ctx.n_seq - 1));
    r.n_past = static_cast<llama_pos>(OptionalInt(o, "nPast", 0, 0, llama_n_ctx_seq(ctx.ctx.get())));
    Napi::Value prompt = o.Get("prompt");
    if (!prompt.IsObject()) ThrowType(env, "requests[" + std::to_string(index) + "].prompt must be an object");
    r.prompt = ParsePromptInput(prompt.As<Napi::Object>(), *ctx.model);
    Napi::Value sampler = o.Get("sampler");
    const SamplerConfig config =
        ParseSamplerConfig(sampler.IsObject() ? sampler.As<Napi::Object>() : Napi::Object::New(env));
    r.sampler = BuildSampler(env, ctx.model->vocab, config, ctx.model->tokens_by_first_byte);
    r.max_tokens = static_cast<int32_t>(OptionalInt(o, "maxTokens", 256, 0, 1 << 20));
    if (!config.drafts.empty()) r.drafts = std::make_unique<DraftProposer>(ctx.model->vocab, config.drafts);
    r.abort = AbortHandle::FromValue(o.Get("abort"));
    return r;
}

Napi::Value GenerateWorker::Admit(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "admit(requests) needs an array");
    std::shared_ptr<AdmissionQueue> queue = res->admission;
    if (!queue) return Napi::Boolean::New(env, false);
    auto arr = info[0].As<Napi::Array>();
    std::vector<GenerateRequest> parsed;
    for (uint32_t i = 0; i < arr.Length(); i++) parsed.push_back(ParseRequest(env, arr.Get(i), *res, i, true));
    std::lock_guard<std::mutex> lock(queue->mutex);
    if (!queue->accepting) return Napi::Boolean::New(env, false);
    for (auto& r : parsed) queue->pending.push_back(std::move(r));
    return Napi::Boolean::New(env, true);
}

Napi::Value GenerateWorker::Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "generate(requests) needs an array");
    auto arr = info[0].As<Napi::Array>();
    const bool continuous =
        info.Length() > 2 && info[2].IsObject() && OptionalBool(info[2].As<Napi::Object>(), "continuous", false);
    return FillThenQueue(new GenerateWorker(env, std::move(res)), [&](GenerateWorker& w) {
        ContextResources& ctx = *w.lease_;
        if (arr.Length() == 0 || arr.Length() > ctx.n_seq) {
            ThrowRange(env, "generate takes 1.." + std::to_string(ctx.n_seq) + " requests (the context's sequences)");
        }
        std::vector<bool> used(ctx.n_seq, false);
        for (uint32_t i = 0; i < arr.Length(); i++) {
            GenerateRequest r = ParseRequest(env, arr.Get(i), ctx, i, continuous);
            if (used[r.seq]) ThrowRange(env, "two requests use sequence " + std::to_string(r.seq));
            used[r.seq] = true;
            w.requests_.push_back(std::move(r));
        }
        if (info.Length() > 1 && info[1].IsFunction()) {
            w.on_token_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "llavaguard.onToken", 1, 1);
            w.has_on_token_ = true;
        } else if (continuous) {
            ThrowType(env, "a continuous generation needs its event callback");
        }
        if (continuous) {
            w.continuous_ = true;
            w.admission_ = std::make_shared<AdmissionQueue>();
            ctx.admission = w.admission_;
        }
        w.outcomes_.resize(w.requests_.size());
    });
}

GenerateWorker::GenerateWorker(Napi::Env env, std::shared_ptr<ContextResources> res)
    : ContextWorker(env, "llavaguard.generate", std::move(res)) {}

GenerateWorker::~GenerateWorker() {
    // On the JS thread, after the promise settled (or when Start failed): no admission after this.
    if (!admission_) return;
    {
        std::lock_guard<std::mutex> lock(admission_->mutex);
        admission_->accepting = false;
    }
    if (lease_->admission == admission_) lease_->admission.reset();
}

size_t GenerateWorker::MaxForced() const {
    // Forced runs of all sequences together must fit one batch.
    const size_t slots = continuous_ ? lease_->n_seq : requests_.size();
    return std::max<size_t>(1, llama_n_batch(lease_->ctx.get()) / slots) - 1;
}

void GenerateWorker::Emit(size_t i, llama_token token, const std::string& piece) {
    if (!has_on_token_) return;
    auto* ev = new TokenEvent{requests_[i].id, token, piece, delivered_, nullptr};
    if (token == LLAMA_TOKEN_NULL) ev->finished = std::make_unique<GenerateOutcome>(std::move(outcomes_[i]));
    const napi_status st = on_token_.BlockingCall(ev, [](Napi::Env env, Napi::Function fn, TokenEvent* e) {
        std::unique_ptr<TokenEvent> owned(e);
        // A terminated worker_thread still runs queued calls while its environment is torn down, when calling
        // into JS fails: the error must not escape (node-addon-api would rethrow it into Node: std::terminate).
        try {
            if (e->finished) {
                fn.Call({Napi::Number::New(env, e->request), Napi::Number::New(env, -1),
                         Napi::Buffer<char>::New(env, 0), OutcomeToJs(env, *e->finished)});
            } else {
                fn.Call({Napi::Number::New(env, e->request), Napi::Number::New(env, e->token),
                         Napi::Buffer<char>::Copy(env, e->piece.data(), e->piece.size())});
            }
        } catch (const Napi::Error&) {
        }
        e->delivered->fetch_add(1);
    });
    if (st != napi_ok) {
        delete ev;
        return;
    }
    ++sent_;
}

void GenerateWorker::WaitDelivered() {
    if (!has_on_token_) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (delivered_->load() < sent_ && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
}

bool GenerateWorker::Accept(size_t i, llama_token token) {
    GenerateRequest& r = requests_[i];
    GenerateOutcome& out = outcomes_[i];
    // Checked before the token is shown to JS: nothing sampled after an abort is reported.
    if (r.abort->load() || lease_->closing.load()) {
        out.stop = StopReason::kAbort;
        return false;
    }
    if (llama_vocab_is_eog(lease_->model->vocab, token)) {
        out.stop = StopReason::kEog;
        return false;
    }
    out.tokens.push_back(token);
    const std::string piece = TokenPiece(lease_->model->vocab, token, false);
    out.text += piece;
    Emit(i, token, piece);
    WaitDelivered();
    if (static_cast<int32_t>(out.tokens.size()) >= r.max_tokens) {
        out.stop = StopReason::kMaxTokens;
        return false;
    }
    if (r.abort->load() || lease_->closing.load()) {
        out.stop = StopReason::kAbort;
        return false;
    }
    return true;
}

llama_token GenerateWorker::SampleTimed(size_t i, int32_t idx) {
    const auto t0 = std::chrono::steady_clock::now();
    const llama_token tok = requests_[i].sampler->Sample(lease_->ctx.get(), idx);
    outcomes_[i].decode_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (tok == LLAMA_TOKEN_NULL) {
        outcomes_[i].stop = StopReason::kError;
        outcomes_[i].error = "sampling failed: the grammar allows no token here";
    }
    return tok;
}

bool GenerateWorker::SampleAndForce(size_t i, int32_t idx, size_t max_forced) {
    const llama_token tok = SampleTimed(i, idx);
    return tok != LLAMA_TOKEN_NULL && Continue(i, tok, max_forced);
}

bool GenerateWorker::Continue(size_t i, llama_token tok, size_t max_forced) {
    GenerateRequest& r = requests_[i];
    GenerateOutcome& out = outcomes_[i];
    out.pending.clear();
    out.draft.clear();
    if (!Accept(i, tok)) return false;
    out.pending.push_back(tok);
    while (out.pending.size() <= max_forced) {
        const auto tf = std::chrono::steady_clock::now();
        const llama_token forced = r.sampler->NextForced();
        out.decode_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - tf).count();
        if (forced == LLAMA_TOKEN_NULL) break;
        out.forced_tokens++;
        if (!Accept(i, forced)) return false;
        out.pending.push_back(forced);
    }
    if (r.sampler->DeadEnd()) {
        out.stop = StopReason::kError;
        out.error = "the grammar allows no token here";
        return false;
    }
    // The grammar is complete: the forward pass that plain decoding would spend on sampling the end is saved
    // (the output tokens are the same; the accepted tokens stay out of the KV cache, as nPast reports).
    if (r.sampler->OnlyEndAllowed()) {
        out.stop = StopReason::kEog;
        return false;
    }
    ProposeDraft(i, max_forced + 1 - std::min(max_forced + 1, out.pending.size()));
    return true;
}

void GenerateWorker::ProposeDraft(size_t i, size_t room) {
    GenerateRequest& r = requests_[i];
    GenerateOutcome& out = outcomes_[i];
    if (!r.drafts || !r.sampler->Speculates() || out.draft_budget.Limit() == 0) return;
    const size_t left =
        static_cast<size_t>(r.max_tokens) - std::min(static_cast<size_t>(r.max_tokens), out.tokens.size());
    const auto t0 = std::chrono::steady_clock::now();
    out.draft = r.drafts->Propose(out.text, std::min({room, left, out.draft_budget.Limit()}));
    out.draft.resize(r.sampler->GrammarAllowedPrefix(out.draft));
    out.decode_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

bool GenerateWorker::Verify(size_t i, int32_t idx, size_t max_forced) {
    GenerateRequest& r = requests_[i];
    GenerateOutcome& out = outcomes_[i];
    const llama_pos base = out.n_past + static_cast<llama_pos>(out.pending.size());
    const std::vector<llama_token> draft = std::move(out.draft);
    out.draft.clear();
    size_t confirmed = 0;
    llama_token tok = LLAMA_TOKEN_NULL;
    bool live = true;
    // Sampling at each position, as plain decoding would, with the logits of the drafted prefix: only tokens
    // it picks are kept, so the output is plain decoding's.
    while (true) {
        tok = SampleTimed(i, idx + static_cast<int32_t>(confirmed));
        if (tok == LLAMA_TOKEN_NULL) {
            live = false;
            break;
        }
        if (confirmed == draft.size() || tok != draft[confirmed]) break;
        confirmed++;
        if (!Accept(i, tok)) {
            live = false;
            break;
        }
    }
    out.n_past = base + static_cast<llama_pos>(confirmed);
    if (confirmed < draft.size()) llama_memory_seq_rm(llama_get_memory(lease_->ctx.get()), r.seq, out.n_past, -1);
    if (!draft.empty()) {
        out.draft_proposed += static_cast<int32_t>(draft.size());
        out.draft_accepted += static_cast<int32_t>(confirmed);
        out.draft_budget.Record(draft.size(), confirmed);
    }
    return live && Continue(i, tok, max_forced);
}

void GenerateWorker::StartRequest(size_t i, std::vector<size_t>& live) {
    ContextResources& ctx = *lease_;
    llama_memory_t mem = llama_get_memory(ctx.ctx.get());
    GenerateRequest& r = requests_[i];
    GenerateOutcome& out = outcomes_[i];
    out.draft_budget = DraftBudget(ctx.drafts);
    llama_memory_seq_rm(mem, r.seq, r.n_past, -1);
    ctx.current_abort.store(r.abort.get());
    out.prefill = Prefill(ctx, r.seq, r.n_past, r.prompt, true, *r.abort);
    ctx.current_abort.store(nullptr);
    out.n_past = out.prefill.n_past;
    if (!out.prefill.ok) {
        out.stop = out.prefill.aborted ? StopReason::kAbort : StopReason::kError;
        out.error = out.prefill.error;
        llama_memory_seq_rm(mem, r.seq, r.n_past, -1);
    } else if (r.max_tokens == 0) {
        out.stop = StopReason::kMaxTokens;
    } else if (SampleAndForce(i, -1, MaxForced())) {
        live.push_back(i);
        return;
    }
    Finish(i);
}

void GenerateWorker::AdmitPending(std::vector<size_t>& live) {
    std::vector<GenerateRequest> taken;
    {
        std::lock_guard<std::mutex> lock(admission_->mutex);
        taken.swap(admission_->pending);
    }
    for (GenerateRequest& r : taken) {
        const bool in_use = std::any_of(live.begin(), live.end(), [&](size_t j) { return requests_[j].seq == r.seq; });
        requests_.push_back(std::move(r));
        outcomes_.emplace_back();
        const size_t i = requests_.size() - 1;
        if (in_use) {
            outcomes_[i].stop = StopReason::kError;
            outcomes_[i].error = "sequence " + std::to_string(requests_[i].seq) + " is in use";
            Finish(i);
            continue;
        }
        StartRequest(i, live);
    }
}

void GenerateWorker::Finish(size_t i) {
    if (!continuous_) return;
    GenerateRequest& r = requests_[i];
    llama_memory_seq_rm(llama_get_memory(lease_->ctx.get()), r.seq, -1, -1);
    lease_->drafts.proposed += outcomes_[i].draft_proposed;
    lease_->drafts.confirmed += outcomes_[i].draft_accepted;
    r.sampler.reset();
    r.drafts.reset();
    r.prompt = PromptInput{};
    Emit(i, LLAMA_TOKEN_NULL, std::string());
}

void GenerateWorker::Compute() {
    BeginLogScope();
    ContextResources& ctx = *lease_;
    std::vector<size_t> live;
    for (size_t i = 0; i < requests_.size(); i++) StartRequest(i, live);
    DecodeLoop(live);
    if (!continuous_) {
        for (const GenerateOutcome& out : outcomes_) {
            ctx.drafts.proposed += out.draft_proposed;
            ctx.drafts.confirmed += out.draft_accepted;
        }
    }
    WaitDelivered();
    if (has_on_token_) on_token_.Release();
}

void GenerateWorker::DecodeLoop(std::vector<size_t>& live) {
    ContextResources& ctx = *lease_;
    const llama_pos n_ctx_seq = static_cast<llama_pos>(llama_n_ctx_seq(ctx.ctx.get()));
    const size_t max_forced = MaxForced();
    Batch batch(static_cast<int32_t>(llama_n_batch(ctx.ctx.get())), 1);
    for (;;) {
        if (continuous_) {
            // The step boundary: images queued for encoding meanwhile are encoded (the loop holds nothing they
            // touch), then requests admitted meanwhile join.
            RunJobsBetweenSteps();
            AdmitPending(live);
            if (live.empty()) {
                std::lock_guard<std::mutex> lock(admission_->mutex);
                if (admission_->pending.empty()) {
                    admission_->accepting = false;
                    break;
                }
                continue;
            }
        }
        if (live.empty()) break;
        const auto t0 = std::chrono::steady_clock::now();
        batch.clear();
        std::vector<size_t> in_batch;
        std::vector<int32_t> logits_at;
        for (size_t i : live) {
            GenerateOutcome& out = outcomes_[i];
            if (out.n_past + static_cast<llama_pos>(out.pending.size()) > n_ctx_seq) {
                out.stop = StopReason::kContextFull;
                continue;
            }
            const llama_pos room = n_ctx_seq - out.n_past - static_cast<llama_pos>(out.pending.size());
            if (static_cast<llama_pos>(out.draft.size()) > room) out.draft.resize(static_cast<size_t>(room));
            for (size_t k = 0; k < out.pending.size(); k++) {
                batch.add(out.pending[k], out.n_past + static_cast<llama_pos>(k), requests_[i].seq,
                          k + 1 == out.pending.size());
            }
            in_batch.push_back(i);
            logits_at.push_back(batch.size() - 1);
            const llama_pos draft_at = out.n_past + static_cast<llama_pos>(out.pending.size());
            for (size_t k = 0; k < out.draft.size(); k++) {
                batch.add(out.draft[k], draft_at + static_cast<llama_pos>(k), requests_[i].seq, true);
            }
        }
        std::vector<size_t> still_live;
        const int32_t ret = in_batch.empty() ? 0 : llama_decode(ctx.ctx.get(), batch.get());
        if (ret != 0) {
            for (size_t i : in_batch) {
                outcomes_[i].stop = ret == 2 ? StopReason::kAbort : StopReason::kError;
                outcomes_[i].error =
                    ret == 2 ? "aborted" : WithLogDetail("llama_decode failed with code " + std::to_string(ret));
            }
        } else {
            const double step_ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            for (size_t j = 0; j < in_batch.size(); j++) {
                const size_t i = in_batch[j];
                GenerateOutcome& out = outcomes_[i];
                out.forward_passes++;
                out.decode_ms += step_ms;
                if (Verify(i, logits_at[j], max_forced)) still_live.push_back(i);
            }
        }
        for (size_t i : live) {
            if (std::find(still_live.begin(), still_live.end(), i) == still_live.end()) Finish(i);
        }
        live.swap(still_live);
    }
}

Napi::Value GenerateWorker::Result(Napi::Env env) {
    // Continuous mode: every result went to JS as its request finished.
    if (continuous_) return Napi::Array::New(env, 0);
    Napi::Array results = Napi::Array::New(env, outcomes_.size());
    for (size_t i = 0; i < outcomes_.size(); i++) results.Set(static_cast<uint32_t>(i), OutcomeToJs(env, outcomes_[i]));
    return results;
}

}  // namespace lg
