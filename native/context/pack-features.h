// packOneVisionFeatures({ overview, tiles, newline, featuresPerSide, gridCols, unpadded, downsampled?, totalTokens })
// -> ImageEmbeddings: LLaVA-OneVision's feature arrangement (transformers' pack_image_features; the plan comes from
// lib/preprocess/onevision.ts) done on the encoder's handles, so the tiles' rows never reach JS. The same
// arithmetic as lib/preprocess/onevision-features.ts (bit for bit: tested against it).
#pragma once
#include <napi.h>

namespace lg {

Napi::Value PackOneVisionFeatures(const Napi::CallbackInfo& info);

}  // namespace lg
