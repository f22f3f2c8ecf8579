#include "grammar-tokens.h"

#include <algorithm>
#include <cctype>

namespace lg {

std::optional<std::vector<llama_token>> GrammarTokenIds(const std::string& gbnf) {
    std::vector<llama_token> ids;
    const size_t n = gbnf.size();
    size_t i = 0;
    // Skips a quoted literal or a character class starting at i (the opening delimiter), escapes included.
    auto skip_delimited = [&](char close) {
        for (i++; i < n && gbnf[i] != close; i++) {
            if (gbnf[i] == '\\') i++;
        }
        if (i < n) i++;
    };
    while (i < n) {
        const char c = gbnf[i];
        if (c == '#') {
            while (i < n && gbnf[i] != '\n') i++;
        } else if (c == '"') {
            skip_delimited('"');
        } else if (c == '[') {
            skip_delimited(']');
        } else if (c == '<') {
            if (i + 1 >= n || gbnf[i + 1] != '[') return std::nullopt;
            size_t j = i + 2;
            long long value = 0;
            while (j < n && std::isdigit(static_cast<unsigned char>(gbnf[j])) && value <= INT32_MAX) {
                value = value * 10 + (gbnf[j] - '0');
                j++;
            }
            // Malformed or out of range: llama.cpp's parser rejects the grammar, nothing to add.
            if (j == i + 2 || j + 1 >= n || gbnf[j] != ']' || gbnf[j + 1] != '>' || value > INT32_MAX)
                return std::nullopt;
            ids.push_back(static_cast<llama_token>(value));
            i = j + 2;
        } else {
            i++;
        }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

}  // namespace lg
