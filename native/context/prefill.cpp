#include "prefill.h"

#include <chrono>
#include <vector>

#include "mtmd-helper.h"
#include "decode-steps.h"
#include "tokenize-text.h"
#include "../util/log-capture.h"

namespace lg {

namespace {

// Decodes mtmd's chunks (text, and images through the encoder) after out.n_past; logits after the last chunk's
// last token when asked.
bool DecodeChunks(ContextResources& res, llama_seq_id seq, const mtmd_input_chunks* chunks, bool logits_last,
                  std::atomic<bool>& abort, PrefillResult& out) {
    llama_context* ctx = res.ctx.get();
    mtmd_context* mctx = res.model->mtmd.get();
    const size_t n_chunks = mtmd_input_chunks_size(chunks);
    const int32_t n_batch = static_cast<int32_t>(llama_n_batch(ctx));
    for (size_t c = 0; c < n_chunks; c++) {
        const mtmd_input_chunk* chunk = mtmd_input_chunks_get(chunks, c);
        const auto type = mtmd_input_chunk_get_type(chunk);
        if (type == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            size_t n = 0;
            const llama_token* tokens = mtmd_input_chunk_get_tokens_text(chunk, &n);
            const auto t_text = std::chrono::steady_clock::now();
            out.n_tokens += static_cast<int32_t>(n);
            if (n > 0 && !DecodeTokens(res, seq, tokens, n, logits_last && c == n_chunks - 1, abort, out)) return false;
            out.prompt_ms += MsSince(t_text);
            continue;
        }
        if (type != MTMD_INPUT_CHUNK_TYPE_IMAGE) {
            out.error = "only text and image input is supported";
            return false;
        }
        const size_t n_img = mtmd_input_chunk_get_n_tokens(chunk);
        if (mtmd_decode_use_non_causal(mctx, chunk) && n_img > llama_n_ubatch(ctx)) {
            out.error = "this model decodes an image in one micro-batch: ubatchSize must be at least " +
                        std::to_string(n_img) + " (it is " + std::to_string(llama_n_ubatch(ctx)) + ")";
            return false;
        }
        if (abort.load() || res.closing.load()) {
            out.aborted = true;
            out.error = "aborted";
            return false;
        }
        const auto t_enc = std::chrono::steady_clock::now();
        int32_t ret = mtmd_encode_chunk(mctx, chunk);
        if (ret != 0) {
            out.error = WithLogDetail("image encoding failed (code " + std::to_string(ret) + ")");
            return false;
        }
        out.image_ms += MsSince(t_enc);
        const auto t_dec = std::chrono::steady_clock::now();
        llama_pos new_n_past = out.n_past;
        ret = mtmd_helper_decode_image_chunk(mctx, ctx, chunk, mtmd_get_output_embd(mctx), out.n_past, seq, n_batch,
                                             &new_n_past, nullptr, nullptr);
        out.forward_passes += static_cast<int32_t>((n_img + n_batch - 1) / n_batch);
        if (ret != 0) {
            out.aborted = ret == 2;
            out.error = DecodeError(ret);
            return false;
        }
        out.prompt_ms += MsSince(t_dec);
        out.n_past = new_n_past;
        out.n_tokens += static_cast<int32_t>(n_img);
        out.n_image_tokens += static_cast<int32_t>(n_img);
    }
    return true;
}

// A prompt lib/tokenize tokenized (textTokens) with images: each image alone through mtmd_tokenize (its chunks:
// the image and any tokens mtmd puts around it), the given token pieces before, between and after them.
PrefillResult PrefillTokensAndImages(ContextResources& res, llama_seq_id seq, llama_pos n_past,
                                     const PromptInput& prompt, bool logits_last, std::atomic<bool>& abort) {
    PrefillResult out;
    out.n_past = n_past;
    mtmd_context* mctx = res.model->mtmd.get();
    const std::string marker = mtmd_default_marker();
    std::vector<ChunksPtr> images;
    llama_pos n_pos = 0;
    for (const auto& bitmap : prompt.bitmaps) {
        ChunksPtr chunks(mtmd_input_chunks_init());
        mtmd_input_text text{marker.c_str(), marker.size(), false, false};
        const mtmd_bitmap* one = bitmap.get();
        const int32_t tok = mtmd_tokenize(mctx, chunks.get(), &text, &one, 1);
        if (tok != 0) {
            out.error =
                WithLogDetail("image preprocessing failed (mtmd_tokenize returned " + std::to_string(tok) + ")");
            return out;
        }
        n_pos += mtmd_helper_get_n_pos(chunks.get());
        images.push_back(std::move(chunks));
    }
    for (const auto& piece : prompt.text_tokens) n_pos += static_cast<llama_pos>(piece.size());
    const llama_pos n_ctx_seq = static_cast<llama_pos>(llama_n_ctx_seq(res.ctx.get()));
    if (n_past + n_pos > n_ctx_seq) {
        out.error = "the prompt (" + std::to_string(n_pos) + " positions at position " + std::to_string(n_past) +
                    ") does not fit the sequence's context of " + std::to_string(n_ctx_seq) + " tokens";
        return out;
    }
    if (logits_last && prompt.text_tokens.back().empty()) {
        out.error = "the prompt must end with text after the last image, so there is a token to predict from";
        return out;
    }
    for (size_t i = 0; i < prompt.text_tokens.size(); i++) {
        const auto& piece = prompt.text_tokens[i];
        const bool last = i + 1 == prompt.text_tokens.size();
        const auto t_text = std::chrono::steady_clock::now();
        if (!piece.empty() && !DecodeTokens(res, seq, piece.data(), piece.size(), logits_last && last, abort, out)) {
            return out;
        }
        out.prompt_ms += MsSince(t_text);
        out.n_tokens += static_cast<int32_t>(piece.size());
        if (last) break;
        if (!DecodeChunks(res, seq, images[i].get(), false, abort, out)) return out;
    }
    out.ok = true;
    return out;
}

}  // namespace

PrefillResult Prefill(ContextResources& res, llama_seq_id seq, llama_pos n_past, const PromptInput& prompt,
                      bool logits_last, std::atomic<bool>& abort) {
    BeginLogScope();
    if (!prompt.embeddings.empty()) return PrefillEmbeddings(res, seq, n_past, prompt, logits_last, abort);
    if (!prompt.text_tokens.empty()) return PrefillTokensAndImages(res, seq, n_past, prompt, logits_last, abort);
    PrefillResult out;
    out.n_past = n_past;
    llama_context* ctx = res.ctx.get();
    const llama_pos n_ctx_seq = static_cast<llama_pos>(llama_n_ctx_seq(ctx));
    const auto t0 = std::chrono::steady_clock::now();

    if (!prompt.tokens.empty() || !res.model->mtmd) {
        std::vector<llama_token> tokens = prompt.tokens;
        if (tokens.empty() &&
            !TokenizeText(res.model->vocab, prompt.text, prompt.add_special, prompt.parse_special, tokens)) {
            out.error = "tokenization failed";
            return out;
        }
        if (tokens.empty()) {
            out.error = "the prompt has no tokens";
            return out;
        }
        if (n_past + static_cast<llama_pos>(tokens.size()) > n_ctx_seq) {
            out.error = "the prompt (" + std::to_string(tokens.size()) + " tokens at position " +
                        std::to_string(n_past) + ") does not fit the sequence's context of " +
                        std::to_string(n_ctx_seq) + " tokens";
            return out;
        }
        out.n_tokens = static_cast<int32_t>(tokens.size());
        if (!DecodeTokens(res, seq, tokens.data(), tokens.size(), logits_last, abort, out)) return out;
        out.prompt_ms = MsSince(t0);
        out.ok = true;
        return out;
    }

    mtmd_context* mctx = res.model->mtmd.get();
    ChunksPtr chunks(mtmd_input_chunks_init());
    mtmd_input_text text{prompt.text.c_str(), prompt.text.size(), prompt.add_special, prompt.parse_special};
    std::vector<const mtmd_bitmap*> bitmaps;
    for (const auto& b : prompt.bitmaps) bitmaps.push_back(b.get());
    const int32_t tok = mtmd_tokenize(mctx, chunks.get(), &text, bitmaps.data(), bitmaps.size());
    if (tok == 1) {
        out.error = "the prompt has a different number of media markers (" + std::string(mtmd_default_marker()) +
                    ") than images (" + std::to_string(bitmaps.size()) + ")";
        return out;
    }
    if (tok != 0) {
        out.error = WithLogDetail("image preprocessing failed (mtmd_tokenize returned " + std::to_string(tok) + ")");
        return out;
    }
    const size_t n_chunks = mtmd_input_chunks_size(chunks.get());
    const llama_pos n_pos = mtmd_helper_get_n_pos(chunks.get());
    if (n_chunks == 0 || mtmd_helper_get_n_tokens(chunks.get()) == 0) {
        out.error = "the prompt has no tokens";
        return out;
    }
    if (n_past + n_pos > n_ctx_seq) {
        out.error = "the prompt (" + std::to_string(n_pos) + " positions at position " + std::to_string(n_past) +
                    ") does not fit the sequence's context of " + std::to_string(n_ctx_seq) + " tokens";
        return out;
    }
    const mtmd_input_chunk* last = mtmd_input_chunks_get(chunks.get(), n_chunks - 1);
    if (logits_last && mtmd_input_chunk_get_type(last) != MTMD_INPUT_CHUNK_TYPE_TEXT) {
        out.error = "the prompt must end with text after the last image, so there is a token to predict from";
        return out;
    }
    if (!DecodeChunks(res, seq, chunks.get(), logits_last, abort, out)) return out;
    out.ok = true;
    return out;
}

}  // namespace lg
