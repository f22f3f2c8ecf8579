#include "decode-steps.h"

#include <algorithm>
#include <cstring>

#include "../util/log-capture.h"

namespace lg {

double MsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string DecodeError(int32_t ret) {
    if (ret == 1) return "no room in the KV cache for the prompt (context too small)";
    if (ret == 2) return "aborted";
    return WithLogDetail("llama_decode failed with code " + std::to_string(ret));
}

namespace {

bool Aborted(ContextResources& res, std::atomic<bool>& abort, PrefillResult& out) {
    if (!abort.load() && !res.closing.load()) return false;
    out.aborted = true;
    out.error = "aborted";
    return true;
}

bool Check(int32_t ret, PrefillResult& out) {
    out.forward_passes++;
    if (ret == 0) return true;
    out.aborted = ret == 2;
    out.error = DecodeError(ret);
    return false;
}

// llama_batch_init(n, embd, ...) allocates embd rows instead of token ids.
class EmbdBatch {
 public:
    EmbdBatch(int32_t capacity, int32_t n_embd) : batch_(llama_batch_init(capacity, n_embd, 1)), n_embd_(n_embd) {}
    ~EmbdBatch() { llama_batch_free(batch_); }
    EmbdBatch(const EmbdBatch&) = delete;
    EmbdBatch& operator=(const EmbdBatch&) = delete;
    void Fill(const float* rows, int32_t n, llama_pos pos0, llama_seq_id seq, bool logits_last) {
        std::memcpy(batch_.embd, rows, sizeof(float) * static_cast<size_t>(n) * static_cast<size_t>(n_embd_));
        for (int32_t i = 0; i < n; i++) {
            batch_.pos[i] = pos0 + i;
            batch_.n_seq_id[i] = 1;
            batch_.seq_id[i][0] = seq;
            batch_.logits[i] = logits_last && i == n - 1;
        }
        batch_.n_tokens = n;
    }
    llama_batch& get() { return batch_; }

 private:
    llama_batch batch_;
    int32_t n_embd_;
};

}  // namespace

bool DecodeTokens(ContextResources& res, llama_seq_id seq, const llama_token* tokens, size_t n, bool logits_last,
                  std::atomic<bool>& abort, PrefillResult& out) {
    llama_context* ctx = res.ctx.get();
    const int32_t n_batch = static_cast<int32_t>(llama_n_batch(ctx));
    Batch batch(n_batch, 1);
    size_t i = 0;
    while (i < n) {
        if (Aborted(res, abort, out)) return false;
        batch.clear();
        for (; i < n && batch.size() < n_batch; i++) {
            batch.add(tokens[i], out.n_past++, seq, logits_last && i == n - 1);
        }
        if (!Check(llama_decode(ctx, batch.get()), out)) return false;
    }
    return true;
}

bool DecodeEmbeddings(ContextResources& res, llama_seq_id seq, const float* embd, int32_t n_tokens, bool logits_last,
                      std::atomic<bool>& abort, PrefillResult& out) {
    llama_context* ctx = res.ctx.get();
    const int32_t n_batch = static_cast<int32_t>(llama_n_batch(ctx));
    const int32_t n_embd = llama_model_n_embd_inp(res.model->model.get());
    EmbdBatch batch(n_batch, n_embd);
    for (int32_t i = 0; i < n_tokens; i += n_batch) {
        if (Aborted(res, abort, out)) return false;
        const int32_t n = std::min(n_batch, n_tokens - i);
        batch.Fill(embd + static_cast<size_t>(i) * static_cast<size_t>(n_embd), n, out.n_past, seq,
                   logits_last && i + n == n_tokens);
        if (!Check(llama_decode(ctx, batch.get()), out)) return false;
        out.n_past += n;
    }
    return true;
}

}  // namespace lg
