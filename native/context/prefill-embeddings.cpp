// A prompt whose media markers stand for embedding sequences computed outside mtmd (our own image pipeline):
// the text between markers is tokenized as mtmd_tokenize would (each piece on its own, special tokens only at
// the start) unless lib/tokenize gave its tokens, and the rows are decoded at the markers' places.
#include <chrono>
#include <vector>

#include "decode-steps.h"
#include "prefill.h"
#include "tokenize-text.h"
#include "../util/log-capture.h"

namespace lg {
PrefillResult PrefillEmbeddings(ContextResources& res, llama_seq_id seq, llama_pos n_past, const PromptInput& prompt,
                                bool logits_last, std::atomic<bool>& abort) {
    PrefillResult out;
    out.n_past = n_past;
    const auto t0 = std::chrono::steady_clock::now();
    const std::string marker = mtmd_default_marker();
    std::vector<std::vector<llama_token>> pieces;
    if (!TextPieces(res.model->vocab, prompt, pieces, out.error)) return out;
    if (pieces.size() - 1 != prompt.embeddings.size()) {
        out.error = "the prompt has a different number of media markers (" + marker + ") than embeddings (" +
                    std::to_string(prompt.embeddings.size()) + ")";
        return out;
    }
    size_t total = 0;
    for (const auto& p : pieces) total += p.size();
    for (const auto& e : prompt.embeddings) total += static_cast<size_t>(e.n_tokens);
    const size_t n_ctx_seq = llama_n_ctx_seq(res.ctx.get());
    if (static_cast<size_t>(n_past) + total > n_ctx_seq) {
        out.error = "the prompt (" + std::to_string(total) + " positions at position " + std::to_string(n_past) +
                    ") does not fit the sequence's context of " + std::to_string(n_ctx_seq) + " tokens";
        return out;
    }
    if (logits_last && pieces.back().empty()) {
        out.error = "the prompt must end with text after the last embeddings, so there is a token to predict from";
        return out;
    }
    for (size_t i = 0; i < pieces.size(); i++) {
        const auto& p = pieces[i];
        const bool last = i + 1 == pieces.size();
        if (!p.empty() && !DecodeTokens(res, seq, p.data(), p.size(), logits_last && last, abort, out)) return out;
        out.n_tokens += static_cast<int32_t>(p.size());
        if (last) break;
        const EmbeddingInput& e = prompt.embeddings[i];
        if (!DecodeEmbeddings(res, seq, e.rows->data.data(), e.n_tokens, false, abort, out)) return out;
        out.n_tokens += e.n_tokens;
        out.n_image_tokens += e.n_tokens;
    }
    out.prompt_ms = MsSince(t0);
    out.ok = true;
    return out;
}

}  // namespace lg
