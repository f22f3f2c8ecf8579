// RAII owners for llama.cpp / mtmd handles: every handle is freed exactly once, on every path.
#pragma once
#include <memory>

#include "llama.h"
#include "mtmd.h"
#include "free-with.h"

namespace lg {

using ModelPtr = std::unique_ptr<llama_model, FreeWith<llama_model_free>>;
using ContextPtr = std::unique_ptr<llama_context, FreeWith<llama_free>>;
using MtmdPtr = std::unique_ptr<mtmd_context, FreeWith<mtmd_free>>;
using BitmapPtr = std::unique_ptr<mtmd_bitmap, FreeWith<mtmd_bitmap_free>>;
using ChunksPtr = std::unique_ptr<mtmd_input_chunks, FreeWith<mtmd_input_chunks_free>>;
using MtmdBatchPtr = std::unique_ptr<mtmd_batch, FreeWith<mtmd_batch_free>>;
using SamplerPtr = std::unique_ptr<llama_sampler, FreeWith<llama_sampler_free>>;

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
