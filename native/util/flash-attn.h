#pragma once
#include <napi.h>

#include <string>

#include "llama.h"
#include "js-args.h"

namespace lg {

// 'auto' | 'on' | 'off' -> llama.cpp's enum. Our defaults are chosen by measurement in the TS layer.
inline llama_flash_attn_type ParseFlashAttn(const Napi::Object& obj, const char* key, llama_flash_attn_type fallback) {
    const std::string v = OptionalString(obj, key, "");
    if (v.empty()) return fallback;
    if (v == "auto") return LLAMA_FLASH_ATTN_TYPE_AUTO;
    if (v == "on") return LLAMA_FLASH_ATTN_TYPE_ENABLED;
    if (v == "off") return LLAMA_FLASH_ATTN_TYPE_DISABLED;
    ThrowType(obj.Env(), std::string("option '") + key + "' must be 'auto', 'on' or 'off' (got '" + v + "')");
}

}  // namespace lg
