#include "tokenize-text.h"

#include "mtmd.h"

namespace lg {

bool TokenizeText(const llama_vocab* vocab, const std::string& text, bool add_special, bool parse_special,
                  std::vector<llama_token>& out) {
    out.resize(text.size() + 2);
    const int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), out.data(),
                                     static_cast<int32_t>(out.size()), add_special, parse_special);
    if (n < 0) return false;
    out.resize(static_cast<size_t>(n));
    return true;
}

bool TextPieces(const llama_vocab* vocab, const PromptInput& prompt, std::vector<std::vector<llama_token>>& pieces,
                std::string& error) {
    if (!prompt.text_tokens.empty()) {
        pieces = prompt.text_tokens;
        return true;
    }
    const std::string marker = mtmd_default_marker();
    size_t start = 0;
    for (;;) {
        const size_t at = prompt.text.find(marker, start);
        const std::string piece = prompt.text.substr(start, at == std::string::npos ? std::string::npos : at - start);
        pieces.emplace_back();
        if (!TokenizeText(vocab, piece, prompt.add_special && pieces.size() == 1, prompt.parse_special,
                          pieces.back())) {
            error = "tokenization failed";
            return false;
        }
        if (at == std::string::npos) return true;
        start = at + marker.size();
    }
}

}  // namespace lg
