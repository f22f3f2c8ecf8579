#include "sampler-config.h"

#include "../util/js-args.h"
#include "grammar-tokens.h"
#include "../util/log-capture.h"

namespace lg {

SamplerConfig ParseSamplerConfig(const Napi::Object& obj) {
    SamplerConfig c;
    c.grammar = OptionalString(obj, "grammar", "");
    c.grammar_root = OptionalString(obj, "grammarRoot", "root");
    c.temperature = static_cast<float>(OptionalNumber(obj, "temperature", c.temperature, 0.0, 100.0));
    c.top_k = static_cast<int32_t>(OptionalInt(obj, "topK", c.top_k, 0, 1 << 30));
    c.top_p = static_cast<float>(OptionalNumber(obj, "topP", c.top_p, 0.0, 1.0));
    c.seed = static_cast<uint32_t>(OptionalInt(obj, "seed", 0, 0, UINT32_MAX));
    c.jump_forward = OptionalBool(obj, "jumpForward", true);
    c.reference_sampler = OptionalBool(obj, "referenceSampler", false);
    c.drafts = OptionalStringArray(obj, "drafts", 4096, 64 * 1024);
    return c;
}

std::unique_ptr<SequenceSampler> BuildSampler(Napi::Env env, const llama_vocab* vocab, const SamplerConfig& config,
                                              std::shared_ptr<const FirstByteIndex> index) {
    llama_sampler_chain_params params = llama_sampler_chain_default_params();
    params.no_perf = true;
    SamplerPtr grammar;
    if (!config.grammar.empty()) {
        BeginLogScope();
        grammar.reset(llama_sampler_init_grammar(vocab, config.grammar.c_str(), config.grammar_root.c_str()));
        if (!grammar) throw Napi::Error::New(env, WithLogDetail("invalid GBNF grammar"));
    }
    SamplerPtr rest(llama_sampler_chain_init(params));
    if (config.temperature <= 0.0f) {
        llama_sampler_chain_add(rest.get(), llama_sampler_init_greedy());
    } else {
        if (config.top_k > 0) llama_sampler_chain_add(rest.get(), llama_sampler_init_top_k(config.top_k));
        if (config.top_p < 1.0f) llama_sampler_chain_add(rest.get(), llama_sampler_init_top_p(config.top_p, 1));
        llama_sampler_chain_add(rest.get(), llama_sampler_init_temp(config.temperature));
        llama_sampler_chain_add(rest.get(), llama_sampler_init_dist(config.seed));
    }
    const int32_t top_k = config.temperature <= 0.0f ? 1 : config.top_k;
    return std::make_unique<SequenceSampler>(vocab, std::move(grammar), std::move(rest), top_k, config.jump_forward,
                                             config.reference_sampler, std::move(index),
                                             GrammarTokenIds(config.grammar));
}

}  // namespace lg
