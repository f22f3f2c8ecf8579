// Reading options from JS objects with range checks: bad input becomes a TypeError/RangeError that names
// the option, before anything reaches llama.cpp (whose own checks often abort the process).
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lg {

Napi::Object RequireObject(const Napi::CallbackInfo& info, size_t index, const char* what);
std::string RequireString(const Napi::Object& obj, const char* key);
std::string OptionalString(const Napi::Object& obj, const char* key, const std::string& fallback);
// An array of at most max_items strings of at most max_bytes UTF-8 bytes each; empty when absent.
std::vector<std::string> OptionalStringArray(const Napi::Object& obj, const char* key, size_t max_items,
                                             size_t max_bytes);
int64_t OptionalInt(const Napi::Object& obj, const char* key, int64_t fallback, int64_t min, int64_t max);
double OptionalNumber(const Napi::Object& obj, const char* key, double fallback, double min, double max);
bool OptionalBool(const Napi::Object& obj, const char* key, bool fallback);
// Token ids from an Int32Array/Uint32Array/number[]; each checked against [0, n_vocab).
std::vector<int32_t> RequireTokens(const Napi::Value& value, int32_t n_vocab, const char* what);

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowType(Napi::Env env, const std::string& message);

}  // namespace lg
