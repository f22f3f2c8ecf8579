// The token ids a GBNF grammar names as `<[id]>` elements. A probe of the first ids (sequence-sampler.h) sees
// every character the grammar allows next, but not a token element: with these ids the sampler can still
// compute the allowed set from a few candidates instead of the whole vocabulary (a literal spelled in token
// elements, as the verdict's token grammar does, is then forced at the cost of a probe).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "llama.h"

namespace lg {

// Sorted, unique. nullopt when the grammar also names tokens by their text (`<think>`): their ids are not
// known without the tokenizer, so no candidate list can be complete. Negated elements (`!<[id]>`) allow
// almost every token, which a probe sees, so they need no id.
std::optional<std::vector<llama_token>> GrammarTokenIds(const std::string& gbnf);

}  // namespace lg
