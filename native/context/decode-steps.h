// The llama_decode loops that prefills are made of: tokens or embedding rows in n_batch pieces, with abort checks
// between pieces and llama.cpp's return codes turned into messages.
#pragma once
#include <atomic>
#include <chrono>
#include <string>

#include "context-resources.h"
#include "prefill.h"

namespace lg {

double MsSince(std::chrono::steady_clock::time_point t0);
std::string DecodeError(int32_t ret);

// Only the very last token asks for logits (when wanted). Advances out.n_past and out.forward_passes.
bool DecodeTokens(ContextResources& res, llama_seq_id seq, const llama_token* tokens, size_t n, bool logits_last,
                  std::atomic<bool>& abort, PrefillResult& out);
// n_tokens rows of llama_model_n_embd_inp floats, at consecutive positions (causal text models).
bool DecodeEmbeddings(ContextResources& res, llama_seq_id seq, const float* embd, int32_t n_tokens, bool logits_last,
                      std::atomic<bool>& abort, PrefillResult& out);

}  // namespace lg
