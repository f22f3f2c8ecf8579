#pragma once
#include <napi.h>

#include "model-resources.h"

namespace lg {
// Sizes, special tokens, chat template and all GGUF metadata of the text model, as a plain JS object.
Napi::Object ModelInfoToJs(Napi::Env env, const ModelResources& res);
}  // namespace lg
