#include "first-byte-index.h"

#include "../util/token-piece.h"

namespace lg {

std::shared_ptr<const FirstByteIndex> FirstByteIndex::Build(const llama_vocab* vocab, int32_t probe_ids) {
    std::shared_ptr<FirstByteIndex> index(new FirstByteIndex());
    const int32_t n = llama_vocab_n_tokens(vocab);
    index->first_byte_.assign(static_cast<size_t>(n), 0);
    std::array<bool, 256> single_in_probe{};
    for (llama_token t = 0; t < n; t++) {
        if (llama_vocab_is_eog(vocab, t)) {
            index->eog_.push_back(t);
            continue;
        }
        const std::string piece = TokenPiece(vocab, t, true);
        // Empty texts and texts starting with NUL are never allowed (llama_grammar_apply_impl).
        if (piece.empty() || piece[0] == 0) continue;
        const auto b = static_cast<uint8_t>(piece[0]);
        index->first_byte_[static_cast<size_t>(t)] = b;
        index->by_byte_[b].push_back(t);
        if (piece.size() == 1 && t < probe_ids) single_in_probe[b] = true;
    }
    for (size_t b = 1; b < 256; b++) {
        if (!single_in_probe[b]) return nullptr;
    }
    return index;
}

const std::vector<llama_token>& FirstByteIndex::SameFirstByte(llama_token token) const {
    if (token < 0 || static_cast<size_t>(token) >= first_byte_.size()) return by_byte_[0];
    return by_byte_[first_byte_[static_cast<size_t>(token)]];
}

}  // namespace lg
