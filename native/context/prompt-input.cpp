#include "prompt-input.h"

#include <cmath>

#include "../util/js-args.h"

namespace lg {
namespace {

constexpr int64_t kMaxSide = 1 << 15;
constexpr int64_t kMaxPixels = int64_t(1) << 28;

EmbeddingInput ParseEmbeddings(const Napi::Value& value, size_t index, int32_t n_embd) {
    Napi::Env env = value.Env();
    const std::string where = "embeddings[" + std::to_string(index) + "]";
    if (ImageEmbeddingsHandle::IsInstance(value)) {
        EmbeddingInput in;
        in.rows = ImageEmbeddingsHandle::RowsOf(value, where);
        if (in.rows->n_embd != n_embd) {
            ThrowRange(env, where + " has rows of " + std::to_string(in.rows->n_embd) +
                                " values; the text model's input width is " + std::to_string(n_embd));
        }
        in.n_tokens = in.rows->n_tokens;
        return in;
    }
    if (!value.IsObject()) ThrowType(env, where + " must be an object { data, nTokens }");
    Napi::Object e = value.As<Napi::Object>();
    const int64_t n_tokens = OptionalInt(e, "nTokens", 0, 0, 1 << 24);
    if (n_tokens < 1) ThrowRange(env, where + ".nTokens must be at least 1");
    Napi::Value data = e.Get("data");
    if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        ThrowType(env, where + ".data must be a Float32Array");
    }
    auto values = data.As<Napi::Float32Array>();
    const size_t expected = static_cast<size_t>(n_tokens) * static_cast<size_t>(n_embd);
    if (values.ElementLength() != expected) {
        ThrowRange(env, where + ".data has " + std::to_string(values.ElementLength()) + " values; " +
                            std::to_string(n_tokens) + " tokens of the text model's input width " +
                            std::to_string(n_embd) + " need " + std::to_string(expected));
    }
    auto rows = std::make_shared<EmbeddingRows>();
    rows->n_tokens = static_cast<int32_t>(n_tokens);
    rows->n_embd = n_embd;
    rows->data.assign(values.Data(), values.Data() + expected);
    for (float v : rows->data) {
        if (!std::isfinite(v)) ThrowRange(env, where + ".data holds a NaN or infinite value");
    }
    EmbeddingInput out;
    out.n_tokens = rows->n_tokens;
    out.rows = std::move(rows);
    return out;
}

}  // namespace

BitmapPtr ParseImage(const Napi::Value& value, const std::string& where) {
    Napi::Env env = value.Env();
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
        for (uint32_t i = 0; i < arr.Length(); i++) {
            p.bitmaps.push_back(ParseImage(arr.Get(i), "images[" + std::to_string(i) + "]"));
        }
    }
    Napi::Value embeddings = obj.Get("embeddings");
    if (!embeddings.IsUndefined() && !embeddings.IsNull()) {
        if (!embeddings.IsArray()) ThrowType(env, "option 'embeddings' must be an array");
        if (!p.bitmaps.empty()) ThrowType(env, "a prompt has either 'images' or 'embeddings', not both");
        auto arr = embeddings.As<Napi::Array>();
        const int32_t n_embd = llama_model_n_embd_inp(model.model.get());
        for (uint32_t i = 0; i < arr.Length(); i++) p.embeddings.push_back(ParseEmbeddings(arr.Get(i), i, n_embd));
    }
    Napi::Value text_tokens = obj.Get("textTokens");
    if (!text_tokens.IsUndefined() && !text_tokens.IsNull()) {
        if (!p.text.empty()) ThrowType(env, "a prompt has either 'text' or 'textTokens', not both");
        const Napi::Value plain = obj.Get("tokens");
        if (!plain.IsUndefined() && !plain.IsNull()) {
            ThrowType(env, "a prompt has either 'tokens' or 'textTokens', not both");
        }
        if (!text_tokens.IsArray()) ThrowType(env, "option 'textTokens' must be an array of token arrays");
        auto arr = text_tokens.As<Napi::Array>();
        const size_t n_media = p.bitmaps.size() + p.embeddings.size();
        if (arr.Length() != n_media + 1) {
            ThrowRange(env, "textTokens has " + std::to_string(arr.Length()) + " pieces; " + std::to_string(n_media) +
                                " images or embeddings need " + std::to_string(n_media + 1) +
                                " (before, between and after them)");
        }
        const int32_t n_vocab = llama_vocab_n_tokens(model.vocab);
        for (uint32_t i = 0; i < arr.Length(); i++) {
            const std::string what = "textTokens[" + std::to_string(i) + "]";
            p.text_tokens.push_back(RequireTokens(arr.Get(i), n_vocab, what.c_str()));
        }
        if (n_media == 0) {
            // plain tokens: the same prompt as { tokens }
            p.tokens = std::move(p.text_tokens[0]);
            p.text_tokens.clear();
            if (p.tokens.empty()) ThrowRange(env, "the prompt is empty: textTokens holds no tokens");
            return p;
        }
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
