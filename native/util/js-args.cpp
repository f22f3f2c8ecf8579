#include "js-args.h"

#include <cmath>
#include <optional>

namespace lg {

void ThrowRange(Napi::Env env, const std::string& message) {
    throw Napi::RangeError::New(env, message);
}
void ThrowType(Napi::Env env, const std::string& message) {
    throw Napi::TypeError::New(env, message);
}

Napi::Object RequireObject(const Napi::CallbackInfo& info, size_t index, const char* what) {
    if (info.Length() <= index || !info[index].IsObject()) {
        ThrowType(info.Env(), std::string(what) + " must be an object");
    }
    return info[index].As<Napi::Object>();
}

std::string RequireString(const Napi::Object& obj, const char* key) {
    Napi::Value v = obj.Get(key);
    if (!v.IsString()) ThrowType(obj.Env(), std::string("option '") + key + "' must be a string");
    return v.As<Napi::String>().Utf8Value();
}

std::string OptionalString(const Napi::Object& obj, const char* key, const std::string& fallback) {
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined() || v.IsNull()) return fallback;
    if (!v.IsString()) ThrowType(obj.Env(), std::string("option '") + key + "' must be a string");
    return v.As<Napi::String>().Utf8Value();
}

std::vector<std::string> OptionalStringArray(const Napi::Object& obj, const char* key, size_t max_items,
                                             size_t max_bytes) {
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined() || v.IsNull()) return {};
    if (!v.IsArray()) ThrowType(obj.Env(), std::string("option '") + key + "' must be an array of strings");
    auto arr = v.As<Napi::Array>();
    if (arr.Length() > max_items) {
        ThrowRange(obj.Env(),
                   std::string("option '") + key + "' takes at most " + std::to_string(max_items) + " strings");
    }
    std::vector<std::string> out;
    for (uint32_t i = 0; i < arr.Length(); i++) {
        Napi::Value item = arr.Get(i);
        if (!item.IsString())
            ThrowType(obj.Env(), std::string("option '") + key + "[" + std::to_string(i) + "]' must be a string");
        out.push_back(item.As<Napi::String>().Utf8Value());
        if (out.back().size() > max_bytes) {
            ThrowRange(obj.Env(), std::string("option '") + key + "[" + std::to_string(i) + "]' is longer than " +
                                      std::to_string(max_bytes) + " bytes");
        }
    }
    return out;
}

namespace {

// The option's number, or nothing when it is not given; a TypeError naming the option when it is not a number.
std::optional<double> GivenNumber(const Napi::Object& obj, const char* key, const char* what) {
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined() || v.IsNull()) return std::nullopt;
    if (!v.IsNumber()) ThrowType(obj.Env(), std::string("option '") + key + "' must be " + what);
    return v.As<Napi::Number>().DoubleValue();
}

template <typename T>
[[noreturn]] void ThrowOutOfRange(const Napi::Object& obj, const char* key, T min, T max, T got) {
    ThrowRange(obj.Env(), std::string("option '") + key + "' must be between " + std::to_string(min) + " and " +
                              std::to_string(max) + " (got " + std::to_string(got) + ")");
}

}  // namespace

double OptionalNumber(const Napi::Object& obj, const char* key, double fallback, double min, double max) {
    const std::optional<double> d = GivenNumber(obj, key, "a number");
    if (!d) return fallback;
    if (!std::isfinite(*d) || *d < min || *d > max) ThrowOutOfRange(obj, key, min, max, *d);
    return *d;
}

int64_t OptionalInt(const Napi::Object& obj, const char* key, int64_t fallback, int64_t min, int64_t max) {
    const std::optional<double> d = GivenNumber(obj, key, "an integer");
    if (!d) return fallback;
    if (!std::isfinite(*d) || std::floor(*d) != *d) {
        ThrowType(obj.Env(), std::string("option '") + key + "' must be an integer");
    }
    if (*d < static_cast<double>(min) || *d > static_cast<double>(max)) {
        ThrowOutOfRange(obj, key, min, max, static_cast<int64_t>(*d));
    }
    return static_cast<int64_t>(*d);
}

bool OptionalBool(const Napi::Object& obj, const char* key, bool fallback) {
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined() || v.IsNull()) return fallback;
    if (!v.IsBoolean()) ThrowType(obj.Env(), std::string("option '") + key + "' must be a boolean");
    return v.As<Napi::Boolean>().Value();
}

std::vector<int32_t> RequireTokens(const Napi::Value& value, int32_t n_vocab, const char* what) {
    Napi::Env env = value.Env();
    std::vector<int32_t> out;
    if (value.IsTypedArray()) {
        auto ta = value.As<Napi::TypedArray>();
        if (ta.TypedArrayType() == napi_int32_array) {
            auto a = value.As<Napi::Int32Array>();
            out.assign(a.Data(), a.Data() + a.ElementLength());
        } else if (ta.TypedArrayType() == napi_uint32_array) {
            auto a = value.As<Napi::Uint32Array>();
            for (size_t i = 0; i < a.ElementLength(); i++) {
                if (a[i] > INT32_MAX) ThrowRange(env, std::string(what) + ": token id out of range");
                out.push_back(static_cast<int32_t>(a[i]));
            }
        } else {
            ThrowType(env, std::string(what) + " must be an Int32Array, Uint32Array or number[]");
        }
    } else if (value.IsArray()) {
        auto a = value.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) {
            Napi::Value e = a.Get(i);
            if (!e.IsNumber()) ThrowType(env, std::string(what) + "[" + std::to_string(i) + "] must be a number");
            const double d = e.As<Napi::Number>().DoubleValue();
            if (std::floor(d) != d || d < INT32_MIN || d > INT32_MAX) {
                ThrowRange(env, std::string(what) + "[" + std::to_string(i) + "] is not a token id");
            }
            out.push_back(static_cast<int32_t>(d));
        }
    } else {
        ThrowType(env, std::string(what) + " must be an Int32Array, Uint32Array or number[]");
    }
    for (size_t i = 0; i < out.size(); i++) {
        if (out[i] < 0 || out[i] >= n_vocab) {
            ThrowRange(env, std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(out[i]) +
                                " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
        }
    }
    return out;
}

}  // namespace lg
