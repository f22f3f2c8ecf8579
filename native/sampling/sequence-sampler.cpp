#include "sequence-sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lg {

namespace {
constexpr int32_t kProbeChunk = 256;
// Candidates checked in descending-logit order before falling back to the full allowed set.
constexpr size_t kTopCandidates = 1024;
constexpr size_t kTopChunk = 64;
}  // namespace

SequenceSampler::SequenceSampler(const llama_vocab* vocab, SamplerPtr grammar, SamplerPtr rest, int32_t top_k,
                                 bool jump_forward, bool reference, std::shared_ptr<const FirstByteIndex> index,
                                 std::optional<std::vector<llama_token>> grammar_tokens)
    : vocab_(vocab),
      index_(std::move(index)),
      grammar_tokens_(std::move(grammar_tokens)),
      n_vocab_(llama_vocab_n_tokens(vocab)),
      top_k_(top_k),
      split_(grammar != nullptr && !reference),
      jump_forward_(jump_forward),
      reference_(reference) {
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
    SetAllowed(arr);
}

void SequenceSampler::ComputeAllowedFromProbe(int found, llama_token only) {
    cur_.clear();
    if (found == 1) {
        for (llama_token t : index_->SameFirstByte(only)) cur_.push_back({t, 0.0f, 0.0f});
    }
    for (llama_token t : *grammar_tokens_) {
        if (t < n_vocab_) cur_.push_back({t, 0.0f, 0.0f});
    }
    for (llama_token t : index_->Eog()) cur_.push_back({t, 0.0f, 0.0f});
    llama_token_data_array arr{cur_.data(), cur_.size(), -1, false};
    llama_sampler_apply(grammar_.get(), &arr);
    SetAllowed(arr);
}

void SequenceSampler::SetAllowed(const llama_token_data_array& arr) {
    allowed_.clear();
    allowed_mask_.assign(static_cast<size_t>(n_vocab_), 0);
    for (size_t i = 0; i < arr.size; i++) {
        if (!std::isinf(arr.data[i].logit)) {
            allowed_.push_back(arr.data[i].id);
            allowed_mask_[static_cast<size_t>(arr.data[i].id)] = 1;
        }
    }
    // Ascending ids, as a pass over the whole vocabulary lists them; a candidate list may name a token twice.
    std::sort(allowed_.begin(), allowed_.end());
    allowed_.erase(std::unique(allowed_.begin(), allowed_.end()), allowed_.end());
    allowed_valid_ = true;
}

void SequenceSampler::FilterAllowed() {
    if (allowed_valid_) {
        cand_.erase(
            std::remove_if(cand_.begin(), cand_.end(),
                           [this](const llama_token_data& c) { return !allowed_mask_[static_cast<size_t>(c.id)]; }),
            cand_.end());
        return;
    }
    // The grammar sampler marks rejected candidates -inf; the real logits are put back by the caller.
    for (auto& c : cand_) c.logit = 0.0f;
    llama_token_data_array arr{cand_.data(), cand_.size(), -1, false};
    llama_sampler_apply(grammar_.get(), &arr);
    cand_.erase(
        std::remove_if(cand_.begin(), cand_.end(), [](const llama_token_data& c) { return std::isinf(c.logit); }),
        cand_.end());
}

int SequenceSampler::ProbeAllowed(llama_token* only) {
    const int32_t end = std::min(n_vocab_, kProbeIds);
    size_t found = 0;
    for (int32_t start = 0; start < end; start += kProbeChunk) {
        cand_.clear();
        for (llama_token t = start; t < std::min(end, start + kProbeChunk); t++) cand_.push_back({t, 0.0f, 0.0f});
        FilterAllowed();
        if (found == 0 && !cand_.empty()) *only = cand_[0].id;
        found += cand_.size();
        if (found >= 2) return 2;
    }
    return static_cast<int>(found);
}

bool SequenceSampler::CollectTopAllowed(const float* logits) {
    picked_.clear();
    const size_t n = static_cast<size_t>(n_vocab_);
    const size_t m = std::min(n, kTopCandidates);
    order_.resize(n);
    std::iota(order_.begin(), order_.end(), 0);
    // Ties broken by id, as llama.cpp's greedy sampler does over the masked vocabulary.
    auto better = [logits](llama_token a, llama_token b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    };
    if (m < n) std::nth_element(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(m), order_.end(), better);
    std::sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(m), better);
    const size_t k = static_cast<size_t>(top_k_);
    for (size_t done = 0; done < m && picked_.size() < k; done += kTopChunk) {
        cand_.clear();
        for (size_t i = done; i < std::min(m, done + kTopChunk); i++) cand_.push_back({order_[i], 0.0f, 0.0f});
        FilterAllowed();
        for (const auto& c : cand_) {
            if (picked_.size() == k) break;
            picked_.push_back({c.id, logits[c.id], 0.0f});
        }
    }
    return picked_.size() == k;
}

llama_token SequenceSampler::Accept(llama_token token) {
    llama_sampler_accept(grammar_.get(), token);
    llama_sampler_accept(rest_.get(), token);
    allowed_valid_ = false;
    return token;
}

llama_token SequenceSampler::Sample(llama_context* ctx, int32_t idx) {
    if (!split_) return llama_sampler_sample(plain_.get(), ctx, idx);
    const float* logits = llama_get_logits_ith(ctx, idx);
    if (!logits) return LLAMA_TOKEN_NULL;
    if (allowed_valid_ && allowed_.empty()) return LLAMA_TOKEN_NULL;

    bool top_only = false;
    if (top_k_ > 0) {
        if (allowed_valid_ && allowed_.size() <= static_cast<size_t>(top_k_)) {
            // Top-k would keep every allowed token (the rest are -inf): the chain sees just these.
            picked_.clear();
            for (llama_token t : allowed_) picked_.push_back({t, logits[t], 0.0f});
            std::sort(picked_.begin(), picked_.end(), [](const llama_token_data& a, const llama_token_data& b) {
                return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
            });
            top_only = true;
        } else {
            top_only = CollectTopAllowed(logits);
        }
    }
    llama_token_data_array arr;
    if (top_only) {
        arr = llama_token_data_array{picked_.data(), picked_.size(), -1, true};
    } else {
        if (!allowed_valid_) ComputeAllowedProbed();
        if (allowed_.empty()) return LLAMA_TOKEN_NULL;
        cur_.resize(static_cast<size_t>(n_vocab_));
        for (llama_token t = 0; t < n_vocab_; t++) {
            cur_[t] = llama_token_data{t, allowed_mask_[static_cast<size_t>(t)] ? logits[t] : -INFINITY, 0.0f};
        }
        arr = llama_token_data_array{cur_.data(), cur_.size(), -1, false};
    }
    llama_sampler_apply(rest_.get(), &arr);
    if (arr.selected < 0 || static_cast<size_t>(arr.selected) >= arr.size) return LLAMA_TOKEN_NULL;
    return Accept(arr.data[arr.selected].id);
}

size_t SequenceSampler::GrammarAllowedPrefix(const std::vector<llama_token>& tokens) const {
    if (!split_) return tokens.size();
    SamplerPtr copy(llama_sampler_clone(grammar_.get()));
    if (!copy) return 0;
    for (size_t i = 0; i < tokens.size(); i++) {
        llama_token_data one{tokens[i], 0.0f, 0.0f};
        llama_token_data_array arr{&one, 1, -1, false};
        llama_sampler_apply(copy.get(), &arr);
        if (std::isinf(one.logit)) return i;
        llama_sampler_accept(copy.get(), tokens[i]);
    }
    return tokens.size();
}

void SequenceSampler::ComputeAllowedProbed() {
    llama_token only = LLAMA_TOKEN_NULL;
    const int found = ProbeAllowed(&only);
    ComputeAllowedAfterProbe(found, only);
}

void SequenceSampler::ComputeAllowedAfterProbe(int found, llama_token only) {
    if (found <= 1 && index_ && grammar_tokens_)
        ComputeAllowedFromProbe(found, only);
    else
        ComputeAllowed();
}

bool SequenceSampler::OnlyEndAllowed() const {
    if (!allowed_valid_ || allowed_.empty()) return false;
    return std::all_of(allowed_.begin(), allowed_.end(),
                       [this](llama_token t) { return llama_vocab_is_eog(vocab_, t); });
}

llama_token SequenceSampler::NextForced() {
    if (!split_ || !jump_forward_) return LLAMA_TOKEN_NULL;
    llama_token only = LLAMA_TOKEN_NULL;
    const int found = ProbeAllowed(&only);
    if (found >= 2) return LLAMA_TOKEN_NULL;
    ComputeAllowedAfterProbe(found, only);
    if (allowed_.size() != 1) return LLAMA_TOKEN_NULL;
    const llama_token token = allowed_[0];
    // Plain sampling would run the chain over one finite candidate: the dist sampler draws once.
    llama_token_data one{token, 0.0f, 0.0f};
    llama_token_data_array arr{&one, 1, -1, false};
    llama_sampler_apply(rest_.get(), &arr);
    return Accept(token);
}

}  // namespace lg
