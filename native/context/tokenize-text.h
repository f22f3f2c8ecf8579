// llama_tokenize into a vector sized for the text (every token covers at least one byte, plus BOS/EOS), and a
// prompt's text pieces around its media markers.
#pragma once
#include <string>
#include <vector>

#include "llama.h"
#include "prompt-input.h"

namespace lg {

bool TokenizeText(const llama_vocab* vocab, const std::string& text, bool add_special, bool parse_special,
                  std::vector<llama_token>& out);

// The prompt's tokens before, between and after its media: textTokens as lib/tokenize made them, else its text
// cut at each media marker and each piece tokenized on its own as mtmd_tokenize does (special tokens only at
// the start). False with `error` set when tokenization fails.
bool TextPieces(const llama_vocab* vocab, const PromptInput& prompt, std::vector<std::vector<llama_token>>& pieces,
                std::string& error);

}  // namespace lg
