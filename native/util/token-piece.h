// A token's text, as llama_token_to_piece writes it (special: render control tokens), whatever its length.
#pragma once
#include <string>

#include "llama.h"

namespace lg {

inline std::string TokenPiece(const llama_vocab* vocab, llama_token token, bool special) {
    std::string piece(256, '\0');
    int32_t n = llama_token_to_piece(vocab, token, piece.data(), static_cast<int32_t>(piece.size()), 0, special);
    if (n < 0) {
        // The return value is minus the length needed.
        piece.resize(static_cast<size_t>(-n));
        n = llama_token_to_piece(vocab, token, piece.data(), static_cast<int32_t>(piece.size()), 0, special);
    }
    piece.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return piece;
}

}  // namespace lg
