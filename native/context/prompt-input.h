// A prompt as JS gives it (text with one media marker per image, images as packed RGB, or plain token ids),
// validated and copied on the JS thread so the worker never touches JS memory.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "../model/model-resources.h"
#include "../util/handles.h"

namespace lg {

struct PromptInput {
    std::string text;
    bool add_special = false;
    bool parse_special = true;
    std::vector<BitmapPtr> bitmaps;
    std::vector<llama_token> tokens;  // used instead of text when non-empty
    bool HasText() const { return !text.empty() || !bitmaps.empty(); }
};

// { text?, images?: [{ data: Uint8Array, width, height, id? }], tokens?, addSpecial?, parseSpecial? }
PromptInput ParsePromptInput(const Napi::Object& obj, const ModelResources& model);

}  // namespace lg
