// Times one attention block on the CPU backend, built the way llama.cpp builds it, with and without flash
// attention. Whether flash attention pays on a CPU depends on the machine (measured: 4.6x slower SigLIP encode
// on one host, 1.36x faster on another), so the library measures instead of guessing.
#pragma once
#include <cstdint>
#include <string>

namespace lg {

// The JavaScript option `layout`: 'kv-cache' or 'vision'.
enum class AttentionLayout {
    kKvCache,  // the text model: F16 KV cache, causal mask, queries at the end of the keys
    kVision,   // the vision encoder: F32 activations, full attention, queries == keys
};

struct AttentionCase {
    int32_t head_dim = 0;
    int32_t heads = 0;
    int32_t kv_heads = 0;
    int32_t queries = 0;
    int32_t keys = 0;
    AttentionLayout layout = AttentionLayout::kKvCache;
    bool flash = false;
};

// Checks a case's sizes; empty when it can be timed, else why not.
std::string ValidateAttentionCase(const AttentionCase& c);

// Fastest wall time of `repeats` graph computes (after one warm-up), in milliseconds. Empty error on success.
double TimeAttention(const AttentionCase& c, int32_t threads, int32_t repeats, std::string* error);

}  // namespace lg
