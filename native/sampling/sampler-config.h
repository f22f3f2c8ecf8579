// One sampler chain per sequence: grammar (GBNF) first, then top-k, top-p, temperature, then a seeded
// dist sampler, or greedy when temperature <= 0.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include <memory>

#include "../util/handles.h"
#include "sequence-sampler.h"

namespace lg {

struct SamplerConfig {
    std::string grammar;  // empty: unconstrained
    std::string grammar_root = "root";
    float temperature = 0.2f;
    int32_t top_k = 50;
    float top_p = 0.95f;
    uint32_t seed = 0;
    bool jump_forward = true;
    // llama.cpp's plain chain (grammar over all logits, then the rest): the reference the tests compare with.
    bool reference_sampler = false;
    // Likely continuations for speculative jump-forward (see draft-proposer.h).
    std::vector<std::string> drafts;
};

SamplerConfig ParseSamplerConfig(const Napi::Object& obj);
// Throws a JS error (with llama.cpp's reason) when the grammar does not parse.
std::unique_ptr<SequenceSampler> BuildSampler(Napi::Env env, const llama_vocab* vocab, const SamplerConfig& config,
                                              std::shared_ptr<const FirstByteIndex> index);

}  // namespace lg
