// The sampler of one sequence. With a grammar it runs "split": the grammar sampler is applied to the
// candidates that matter instead of to the whole vocabulary at every step (152k tokens for Qwen2: that full
// pass was 25 ms a token on a small CPU, more than a 0.5B model's decode step):
// - jump-forward: after each accepted token, whether the grammar allows exactly one token next. A probe of
//   the first token ids usually finds two allowed tokens at once (then nothing is forced); only otherwise is
//   the full allowed set computed, and kept for the next Sample.
// - sampling: with top-k (greedy is top-1) the chain only ever sees the k highest-logit tokens the grammar
//   allows, so candidates are checked in descending-logit order until k are found, and the chain runs on those.
// Both give exactly what plain constrained decoding gives (grammar over all logits, then the chain), up to the
// order of exactly tied logits inside top-k; a forced token advances the dist sampler's RNG by the one draw
// plain sampling takes. Without top-k, the full allowed set is used.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "../util/handles.h"
#include "first-byte-index.h"

namespace lg {

class SequenceSampler {
 public:
    // Enough for a verdict grammar's free-text states, where most short tokens are allowed; in its literal states
    // the probe finds fewer and the allowed set is computed, which is then small and reused by Sample.
    static constexpr int32_t kProbeIds = 2048;

    // grammar may be null. top_k: the chain's top-k (1 for greedy, 0 for none). reference=true keeps
    // llama.cpp's plain chain (grammar first, over all logits) for comparison; jump-forward then is off too.
    // index may be null (every allowed-set computation then checks the whole vocabulary). grammar_tokens: the
    // grammar's token elements (grammar-tokens.h); nullopt when not all of them are known.
    SequenceSampler(const llama_vocab* vocab, SamplerPtr grammar, SamplerPtr rest, int32_t top_k, bool jump_forward,
                    bool reference, std::shared_ptr<const FirstByteIndex> index,
                    std::optional<std::vector<llama_token>> grammar_tokens);

    // Samples from the logits at batch index idx and accepts the token. LLAMA_TOKEN_NULL on failure.
    llama_token Sample(llama_context* ctx, int32_t idx);
    // After an accepted token: the only token the grammar allows next (accepted, RNG advanced), or
    // LLAMA_TOKEN_NULL when there is a choice (or no grammar / jump-forward off).
    llama_token NextForced();
    // True when the grammar allows nothing at all (a dead end).
    bool DeadEnd() const { return allowed_valid_ && allowed_.empty(); }
    // True when, after NextForced found no single token, the grammar allows only end-of-generation tokens: the
    // text is complete, and whichever of them plain sampling picks ends the generation without adding a token.
    bool OnlyEndAllowed() const;
    // How many of tokens, in order, the grammar would accept from here (all of them without a grammar).
    // Nothing is accepted: a draft is checked on a copy of the grammar.
    size_t GrammarAllowedPrefix(const std::vector<llama_token>& tokens) const;
    // Whether drafts may be proposed (jump-forward on, not the reference chain).
    bool Speculates() const { return jump_forward_ && !reference_; }

 private:
    void ComputeAllowed();
    // The allowed set when the probe found at most one allowed token (`only`) among the first ids: every token
    // the grammar allows by its text then starts with that token's byte (the probe covers each byte's one-byte
    // token), so the candidates are that byte's tokens, the grammar's token elements and the end-of-generation
    // tokens.
    void ComputeAllowedFromProbe(int found, llama_token only);
    void SetAllowed(const llama_token_data_array& arr);
    // The allowed set after a probe: by ComputeAllowedFromProbe when the probe can tell, else over the whole
    // vocabulary.
    void ComputeAllowedAfterProbe(int found, llama_token only);
    void ComputeAllowedProbed();
    // How many of the first token ids are allowed, counting to 2 (two: nothing can be forced); *only is set
    // to the allowed one when there is exactly one.
    int ProbeAllowed(llama_token* only);
    // Fills picked_ with the top_k_ highest-logit allowed tokens, in descending order. False when they are not
    // among the first candidates checked (few tokens allowed): the caller then uses the full allowed set.
    bool CollectTopAllowed(const float* logits);
    // Keeps the tokens of cand_ that the grammar allows (mask when valid, else the grammar sampler).
    void FilterAllowed();
    llama_token Accept(llama_token token);

    const llama_vocab* vocab_;
    std::shared_ptr<const FirstByteIndex> index_;
    std::optional<std::vector<llama_token>> grammar_tokens_;
    int32_t n_vocab_;
    int32_t top_k_;
    SamplerPtr grammar_;
    SamplerPtr rest_;
    SamplerPtr plain_;  // grammar + rest as one chain, when not split
    bool split_;
    bool jump_forward_;
    bool reference_;
    std::vector<llama_token_data> cur_;
    std::vector<llama_token_data> cand_;
    std::vector<llama_token_data> picked_;
    std::vector<llama_token> order_;
    std::vector<llama_token> allowed_;
    std::vector<uint8_t> allowed_mask_;
    bool allowed_valid_ = false;
};

}  // namespace lg
