#include "tokenize-text.h"

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

}  // namespace lg
