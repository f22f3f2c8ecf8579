// RAII owners for llama.cpp / mtmd handles: every handle is freed exactly once, on every path.
#pragma once
#include <memory>

#include "llama.h"
#include "mtmd.h"

namespace lg {

struct ModelDeleter {
    void operator()(llama_model* p) const { llama_model_free(p); }
};
struct ContextDeleter {
    void operator()(llama_context* p) const { llama_free(p); }
};
struct MtmdDeleter {
    void operator()(mtmd_context* p) const { mtmd_free(p); }
};
struct BitmapDeleter {
    void operator()(mtmd_bitmap* p) const { mtmd_bitmap_free(p); }
};
struct ChunksDeleter {
    void operator()(mtmd_input_chunks* p) const { mtmd_input_chunks_free(p); }
};
struct SamplerDeleter {
    void operator()(llama_sampler* p) const { llama_sampler_free(p); }
};

using ModelPtr = std::unique_ptr<llama_model, ModelDeleter>;
using ContextPtr = std::unique_ptr<llama_context, ContextDeleter>;
using MtmdPtr = std::unique_ptr<mtmd_context, MtmdDeleter>;
using BitmapPtr = std::unique_ptr<mtmd_bitmap, BitmapDeleter>;
using ChunksPtr = std::unique_ptr<mtmd_input_chunks, ChunksDeleter>;
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerDeleter>;

// llama_batch is a struct of malloc'ed arrays, not a pointer.
class Batch {
 public:
    Batch(int32_t capacity, int32_t n_seq_max)
        : batch_(llama_batch_init(capacity, 0, n_seq_max)), capacity_(capacity) {}
    ~Batch() { llama_batch_free(batch_); }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    void clear() { batch_.n_tokens = 0; }
    void add(llama_token token, llama_pos pos, llama_seq_id seq, bool logits) {
        const int32_t i = batch_.n_tokens++;
        batch_.token[i] = token;
        batch_.pos[i] = pos;
        batch_.n_seq_id[i] = 1;
        batch_.seq_id[i][0] = seq;
        batch_.logits[i] = logits;
    }
    int32_t size() const { return batch_.n_tokens; }
    int32_t capacity() const { return capacity_; }
    llama_batch& get() { return batch_; }

 private:
    llama_batch batch_;
    int32_t capacity_;
};

}  // namespace lg
