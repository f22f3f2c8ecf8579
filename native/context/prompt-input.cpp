#include "prompt-input.h"

#include "../util/js-args.h"

namespace lg {
namespace {

constexpr int64_t kMaxSide = 1 << 15;
constexpr int64_t kMaxPixels = int64_t(1) << 28;

BitmapPtr ParseImage(const Napi::Value& value, size_t index) {
    Napi::Env env = value.Env();
    const std::string where = "images[" + std::to_string(index) + "]";
    if (!value.IsObject()) ThrowType(env, where + " must be an object { data, width, height }");
    Napi::Object img = value.As<Napi::Object>();
    const int64_t width = OptionalInt(img, "width", 0, 0, kMaxSide);
    const int64_t height = OptionalInt(img, "height", 0, 0, kMaxSide);
    if (width < 1 || height < 1) {
        ThrowRange(env, where + " is empty (" + std::to_string(width) + "x" + std::to_string(height) + " pixels)");
    }
    if (width * height > kMaxPixels) ThrowRange(env, where + " has more than 2^28 pixels");
    Napi::Value data = img.Get("data");
    if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        ThrowType(env, where + ".data must be a Uint8Array of packed RGB");
    }
    auto bytes = data.As<Napi::Uint8Array>();
    const size_t expected = static_cast<size_t>(width * height * 3);
    if (bytes.ByteLength() != expected) {
        ThrowRange(env, where + ".data has " + std::to_string(bytes.ByteLength()) + " bytes; " + std::to_string(width) +
                            "x" + std::to_string(height) + " packed RGB needs " + std::to_string(expected));
    }
    BitmapPtr bitmap(mtmd_bitmap_init(static_cast<uint32_t>(width), static_cast<uint32_t>(height), bytes.Data()));
    if (!bitmap) throw Napi::Error::New(env, where + ": could not create the bitmap");
    const std::string id = OptionalString(img, "id", "");
    if (!id.empty()) mtmd_bitmap_set_id(bitmap.get(), id.c_str());
    return bitmap;
}

}  // namespace

PromptInput ParsePromptInput(const Napi::Object& obj, const ModelResources& model) {
    Napi::Env env = obj.Env();
    PromptInput p;
    p.text = OptionalString(obj, "text", "");
    p.add_special = OptionalBool(obj, "addSpecial", false);
    p.parse_special = OptionalBool(obj, "parseSpecial", true);
    Napi::Value images = obj.Get("images");
    if (!images.IsUndefined() && !images.IsNull()) {
        if (!images.IsArray()) ThrowType(env, "option 'images' must be an array");
        auto arr = images.As<Napi::Array>();
        if (arr.Length() > 0 && !model.mtmd) {
            throw Napi::Error::New(env, "this model was loaded without an mmproj: it cannot take images");
        }
        for (uint32_t i = 0; i < arr.Length(); i++) p.bitmaps.push_back(ParseImage(arr.Get(i), i));
    }
    Napi::Value tokens = obj.Get("tokens");
    if (!tokens.IsUndefined() && !tokens.IsNull()) {
        if (p.HasText()) ThrowType(env, "a prompt has either 'tokens' or 'text'/'images', not both");
        p.tokens = RequireTokens(tokens, llama_vocab_n_tokens(model.vocab), "tokens");
    }
    if (!p.HasText() && p.tokens.empty()) ThrowRange(env, "the prompt is empty: give text, images or tokens");
    return p;
}

}  // namespace lg
