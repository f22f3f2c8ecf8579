// The sampler of one sequence. With a grammar it runs "split": the grammar's set of allowed tokens is computed
// once per step and used both to detect forced tokens (jump-forward: when exactly one token is allowed it is
// appended without a forward pass) and to mask the logits before the rest of the chain (top-k, top-p,
// temperature, dist). Masking with that set is what the grammar sampler itself does, and a forced token
// advances the dist sampler's RNG by the one draw plain sampling would take, so the tokens are exactly those
// of plain constrained decoding with the same seed.
#pragma once
#include <vector>

#include "../util/handles.h"

namespace lg {

class SequenceSampler {
 public:
    // grammar may be null. jump_forward=false keeps llama.cpp's plain chain (grammar first) for comparison.
    SequenceSampler(const llama_vocab* vocab, SamplerPtr grammar, SamplerPtr rest, bool jump_forward);

    // Samples from the logits at batch index idx and accepts the token. LLAMA_TOKEN_NULL on failure.
    llama_token Sample(llama_context* ctx, int32_t idx);
    // After an accepted token: the only token the grammar allows next (accepted, RNG advanced), or
    // LLAMA_TOKEN_NULL when there is a choice (or no grammar / jump-forward off).
    llama_token NextForced();
    // True when the grammar allows nothing at all (a dead end).
    bool DeadEnd() const { return allowed_valid_ && allowed_.empty(); }

 private:
    void ComputeAllowed();

    const llama_vocab* vocab_;
    int32_t n_vocab_;
    SamplerPtr grammar_;
    SamplerPtr rest_;
    SamplerPtr plain_;  // grammar + rest as one chain, when not split
    bool split_;
    std::vector<llama_token_data> cur_;
    std::vector<llama_token> allowed_;
    std::vector<uint8_t> allowed_mask_;
    bool allowed_valid_ = false;
};

}  // namespace lg
