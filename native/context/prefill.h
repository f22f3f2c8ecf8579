// Evaluates a prompt into one sequence: tokenization through mtmd, image encoding, and decoding of text and
// image embeddings in n_batch-sized pieces, timed separately. Runs on the worker thread.
#pragma once
#include <atomic>
#include <string>

#include "context-resources.h"
#include "prompt-input.h"

namespace lg {

struct PrefillResult {
    bool ok = false;
    bool aborted = false;
    std::string error;
    llama_pos n_past = 0;  // position after the prompt
    int32_t n_tokens = 0;  // tokens evaluated (text + image)
    int32_t n_image_tokens = 0;
    int32_t forward_passes = 0;
    double image_ms = 0;   // vision encoder
    double prompt_ms = 0;  // text-model prefill of text and image embeddings
};

PrefillResult Prefill(ContextResources& res, llama_seq_id seq, llama_pos n_past, const PromptInput& prompt,
                      bool logits_last, std::atomic<bool>& abort);
// The same for a prompt whose media markers stand for precomputed embeddings (prefill-embeddings.cpp).
PrefillResult PrefillEmbeddings(ContextResources& res, llama_seq_id seq, llama_pos n_past, const PromptInput& prompt,
                                bool logits_last, std::atomic<bool>& abort);

}  // namespace lg
