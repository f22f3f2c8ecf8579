// llama_tokenize into a vector sized for the text (every token covers at least one byte, plus BOS/EOS).
#pragma once
#include <string>
#include <vector>

#include "llama.h"

namespace lg {

bool TokenizeText(const llama_vocab* vocab, const std::string& text, bool add_special, bool parse_special,
                  std::vector<llama_token>& out);

}  // namespace lg
