// The vocabulary's tokens grouped by the first byte of their text (as llama.cpp's grammar sees it:
// token_to_piece with special tokens rendered). In a literal state of a grammar every allowed token starts
// with the same byte, so checking that byte's tokens (a few thousand) gives the same allowed set as checking
// all of them (152k for Qwen2: llama.cpp's grammar decodes each token's text into a new vector, ~40 ms a step
// on a small CPU, half a decode step of the 0.5B model).
#pragma once
#include <array>
#include <memory>
#include <vector>

#include "llama.h"

namespace lg {

class FirstByteIndex {
 public:
    // Null when the vocabulary lacks a one-byte token for some byte among its first probe_ids ids: a probe of
    // those ids then cannot tell which byte every allowed token starts with.
    static std::shared_ptr<const FirstByteIndex> Build(const llama_vocab* vocab, int32_t probe_ids);

    // The tokens whose text starts with the same byte as token's (empty for end-of-generation tokens).
    const std::vector<llama_token>& SameFirstByte(llama_token token) const;
    // End-of-generation tokens: the grammar allows them by its own rule, whatever their text.
    const std::vector<llama_token>& Eog() const { return eog_; }

 private:
    FirstByteIndex() = default;
    std::array<std::vector<llama_token>, 256> by_byte_;  // by_byte_[0] stays empty
    std::vector<llama_token> eog_;
    std::vector<uint8_t> first_byte_;  // per token; 0 for tokens the grammar never allows by their text
};

}  // namespace lg
