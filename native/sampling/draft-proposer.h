// Drafts for speculative jump-forward. The caller names strings the output is likely to contain (for a
// verdict: its literal text, once per rating and category). When the text generated so far ends with a proper
// prefix of some of them and they all go on the same way, that continuation is proposed as tokens; the
// generate loop evaluates them in one batch with the next step and keeps only what sampling confirms, so the
// output stays what plain decoding gives. Why not just the tokens the grammar forces: a BPE vocabulary spells
// each literal in several ways, so the grammar rarely forces a single token, while a model trained on the
// format writes the canonical spelling, which is what is proposed here.
#pragma once
#include <string>
#include <vector>

#include "llama.h"

namespace lg {

class DraftProposer {
 public:
    DraftProposer(const llama_vocab* vocab, const std::vector<std::string>& drafts);

    // Tokens to follow `text` (the generated text so far), at most max_tokens; empty when there is no draft.
    std::vector<llama_token> Propose(const std::string& text, size_t max_tokens) const;

 private:
    struct Entry {
        std::string text;
        // Canonical tokenization of text and the byte offset after each token; empty when the tokenizer's
        // pieces do not spell text exactly.
        std::vector<llama_token> tokens;
        std::vector<size_t> ends;
    };
    // Tokens spelling exactly `s`, or empty.
    std::vector<llama_token> Tokenize(const std::string& s) const;
    // The tokenizer's tokens for s (no special tokens), whatever they spell; empty on failure.
    std::vector<llama_token> TokenizeRaw(const std::string& s) const;

    const llama_vocab* vocab_;
    std::vector<Entry> entries_;
    size_t longest_ = 0;
};

}  // namespace lg
