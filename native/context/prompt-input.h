// A prompt as JS gives it (text with one media marker per image, images as packed RGB, or plain token ids, or
// text with one media marker per precomputed embedding sequence), validated and copied on the JS thread so the
// worker never touches JS memory.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "../model/model-resources.h"
#include "../util/handles.h"
#include "image-embeddings.h"

namespace lg {

// Rows of the text model's input width, decoded in place of a media marker (e.g. an image's features arranged
// by our own pipeline instead of mtmd's): an ImageEmbeddings handle's rows as they are, or a copy of a
// Float32Array.
struct EmbeddingInput {
    EmbeddingRowsPtr rows;
    int32_t n_tokens = 0;
};

struct PromptInput {
    std::string text;
    bool add_special = false;
    bool parse_special = true;
    std::vector<BitmapPtr> bitmaps;
    std::vector<llama_token> tokens;         // used instead of text when non-empty
    std::vector<EmbeddingInput> embeddings;  // instead of bitmaps: one per media marker
    // Instead of text: the text already tokenized by lib/tokenize, the pieces before, between and after the media
    // (one more than the images or embeddings). Only with media: a single piece is parsed into `tokens`.
    std::vector<std::vector<llama_token>> text_tokens;
    bool HasText() const { return !text.empty() || !bitmaps.empty() || !embeddings.empty() || !text_tokens.empty(); }
};

// { text?, images?: [{ data: Uint8Array, width, height, id? }], embeddings?: [{ data: Float32Array, nTokens }],
//   tokens?, textTokens?: Int32Array[], addSpecial?, parseSpecial? }; an embeddings entry may also be an
//   ImageEmbeddings handle.
PromptInput ParsePromptInput(const Napi::Object& obj, const ModelResources& model);
// One packed-RGB image, validated (also used by encodeImages).
BitmapPtr ParseImage(const Napi::Value& value, const std::string& where);

}  // namespace lg
