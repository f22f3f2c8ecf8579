#include "sequence-sampler.h"

#include <cmath>

namespace lg {

SequenceSampler::SequenceSampler(const llama_vocab* vocab, SamplerPtr grammar, SamplerPtr rest, bool jump_forward)
    : vocab_(vocab), n_vocab_(llama_vocab_n_tokens(vocab)), split_(grammar != nullptr && jump_forward) {
    if (split_) {
        grammar_ = std::move(grammar);
        rest_ = std::move(rest);
        return;
    }
    llama_sampler_chain_params params = llama_sampler_chain_default_params();
    params.no_perf = true;
    plain_.reset(llama_sampler_chain_init(params));
    if (grammar) llama_sampler_chain_add(plain_.get(), grammar.release());
    llama_sampler_chain_add(plain_.get(), rest.release());
}

void SequenceSampler::ComputeAllowed() {
    cur_.resize(static_cast<size_t>(n_vocab_));
    for (llama_token t = 0; t < n_vocab_; t++) cur_[t] = llama_token_data{t, 0.0f, 0.0f};
    llama_token_data_array arr{cur_.data(), cur_.size(), -1, false};
    llama_sampler_apply(grammar_.get(), &arr);
    allowed_.clear();
    allowed_mask_.assign(static_cast<size_t>(n_vocab_), 0);
    for (size_t i = 0; i < arr.size; i++) {
        if (!std::isinf(arr.data[i].logit)) {
            allowed_.push_back(arr.data[i].id);
            allowed_mask_[static_cast<size_t>(arr.data[i].id)] = 1;
        }
    }
    allowed_valid_ = true;
}

llama_token SequenceSampler::Sample(llama_context* ctx, int32_t idx) {
    if (!split_) return llama_sampler_sample(plain_.get(), ctx, idx);
    const float* logits = llama_get_logits_ith(ctx, idx);
    if (!logits) return LLAMA_TOKEN_NULL;
    if (!allowed_valid_) ComputeAllowed();
    if (allowed_.empty()) return LLAMA_TOKEN_NULL;
    cur_.resize(static_cast<size_t>(n_vocab_));
    for (llama_token t = 0; t < n_vocab_; t++) {
        cur_[t] = llama_token_data{t, allowed_mask_[static_cast<size_t>(t)] ? logits[t] : -INFINITY, 0.0f};
    }
    llama_token_data_array arr{cur_.data(), cur_.size(), -1, false};
    llama_sampler_apply(rest_.get(), &arr);
    if (arr.selected < 0 || static_cast<size_t>(arr.selected) >= arr.size) return LLAMA_TOKEN_NULL;
    const llama_token token = arr.data[arr.selected].id;
    llama_sampler_accept(grammar_.get(), token);
    llama_sampler_accept(rest_.get(), token);
    allowed_valid_ = false;
    return token;
}

llama_token SequenceSampler::NextForced() {
    if (!split_) return LLAMA_TOKEN_NULL;
    ComputeAllowed();
    if (allowed_.size() != 1) return LLAMA_TOKEN_NULL;
    const llama_token token = allowed_[0];
    // Plain sampling would run the chain over one finite candidate: the dist sampler draws once.
    llama_token_data one{token, 0.0f, 0.0f};
    llama_token_data_array arr{&one, 1, -1, false};
    llama_sampler_apply(rest_.get(), &arr);
    llama_sampler_accept(grammar_.get(), token);
    llama_sampler_accept(rest_.get(), token);
    allowed_valid_ = false;
    return token;
}

}  // namespace lg
