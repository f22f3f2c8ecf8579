#include "draft-proposer.h"

#include <algorithm>

#include "../util/token-piece.h"

namespace lg {

DraftProposer::DraftProposer(const llama_vocab* vocab, const std::vector<std::string>& drafts) : vocab_(vocab) {
    for (const std::string& d : drafts) {
        if (d.empty()) continue;
        Entry e{d, {}, {}};
        std::vector<llama_token> tokens = TokenizeRaw(d);
        std::string spelled;
        std::vector<size_t> ends;
        for (llama_token t : tokens) {
            spelled += TokenPiece(vocab_, t, false);
            ends.push_back(spelled.size());
        }
        // SentencePiece tokenizers put a space in front of the text: the first token then covers it.
        const bool space_prefixed =
            spelled.size() == d.size() + 1 && spelled[0] == ' ' && spelled.compare(1, d.size(), d) == 0;
        if (!tokens.empty() && (space_prefixed || spelled == d)) {
            for (size_t& end : ends) end -= space_prefixed ? 1 : 0;
            e.tokens = std::move(tokens);
            e.ends = std::move(ends);
        }
        longest_ = std::max(longest_, d.size());
        entries_.push_back(std::move(e));
    }
}

std::vector<llama_token> DraftProposer::TokenizeRaw(const std::string& s) const {
    std::vector<llama_token> tokens(s.size() + 8);
    const int32_t n = llama_tokenize(vocab_, s.data(), static_cast<int32_t>(s.size()), tokens.data(),
                                     static_cast<int32_t>(tokens.size()), false, false);
    if (n <= 0) return {};
    tokens.resize(static_cast<size_t>(n));
    return tokens;
}

std::vector<llama_token> DraftProposer::Tokenize(const std::string& s) const {
    std::vector<llama_token> tokens = TokenizeRaw(s);
    std::string spelled;
    for (llama_token t : tokens) spelled += TokenPiece(vocab_, t, false);
    if (spelled != s) return {};
    return tokens;
}

std::vector<llama_token> DraftProposer::Propose(const std::string& text, size_t max_tokens) const {
    if (max_tokens == 0 || entries_.empty()) return {};
    // The longest suffix of text that begins some entries is the most specific context.
    for (size_t k = std::min(text.size(), longest_ - 1); k >= 1; k--) {
        const Entry* first = nullptr;
        size_t common = 0;  // bytes every matching entry continues with alike
        for (const Entry& e : entries_) {
            if (e.text.size() <= k || e.text.compare(0, k, text, text.size() - k, k) != 0) continue;
            if (!first) {
                first = &e;
                common = e.text.size() - k;
                continue;
            }
            size_t c = 0;
            while (c < common && k + c < e.text.size() && e.text[k + c] == first->text[k + c]) c++;
            common = c;
        }
        if (!first) continue;
        if (common == 0) return {};
        std::vector<llama_token> out;
        const auto at = std::find(first->ends.begin(), first->ends.end(), k);
        if (at != first->ends.end()) {
            // The model's tokens so far end on a canonical boundary: propose the canonical tokens that follow.
            for (size_t j = static_cast<size_t>(at - first->ends.begin()) + 1; j < first->tokens.size(); j++) {
                if (first->ends[j] > k + common || out.size() == max_tokens) break;
                out.push_back(first->tokens[j]);
            }
        } else {
            out = Tokenize(first->text.substr(k, common));
            if (out.size() > max_tokens) out.resize(max_tokens);
        }
        return out;
    }
    return {};
}

}  // namespace lg
