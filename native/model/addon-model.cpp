#include "addon-model.h"

#include <string>
#include <vector>

#include "../context/create-context-worker.h"
#include "../util/js-args.h"
#include "model-metadata.h"

namespace lg {
namespace {

// llama.cpp's two-call convention (llama_tokenize, llama_detokenize): a negative result is the room the output
// needs, so the buffer grows to it and the call is made once more.
template <typename Buffer, typename Call>
int32_t CallWithRoom(Buffer& buffer, Call call) {
    int32_t n = call(buffer.data(), static_cast<int32_t>(buffer.size()));
    if (n < 0) {
        buffer.resize(static_cast<size_t>(-n));
        n = call(buffer.data(), static_cast<int32_t>(buffer.size()));
    }
    return n;
}

}  // namespace

void AddonModel::Init(Napi::Env env, Napi::Object exports) {
    Export(env, exports,
           {
               InstanceMethod<&AddonModel::Info>("info"),
               InstanceMethod<&AddonModel::Tokenize>("tokenize"),
               InstanceMethod<&AddonModel::Detokenize>("detokenize"),
               InstanceMethod<&AddonModel::TokenToPiece>("tokenToPiece"),
               InstanceMethod<&AddonModel::IsEog>("isEog"),
               InstanceMethod<&AddonModel::CreateContext>("createContext"),
               InstanceMethod<&AddonModel::Close>("close"),
               InstanceAccessor("closed", &AddonModel::IsClosed, nullptr),
           });
}

Napi::Value AddonModel::Info(const Napi::CallbackInfo& info) {
    return ModelInfoToJs(info.Env(), *Acquire(info.Env()));
}

Napi::Value AddonModel::Tokenize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto res = Acquire(env);
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "tokenize(text) needs a string");
    const std::string text = info[0].As<Napi::String>().Utf8Value();
    const bool add_special = info.Length() > 1 && info[1].ToBoolean().Value();
    const bool parse_special = info.Length() > 2 && info[2].ToBoolean().Value();
    if (text.size() > static_cast<size_t>(INT32_MAX / 2)) throw Napi::RangeError::New(env, "text too long to tokenize");
    std::vector<llama_token> tokens(text.size() + 2);
    const int32_t n = CallWithRoom(tokens, [&](llama_token* data, int32_t size) {
        return llama_tokenize(res->vocab, text.data(), static_cast<int32_t>(text.size()), data, size, add_special,
                              parse_special);
    });
    if (n < 0) throw Napi::Error::New(env, "tokenization failed");
    Napi::Int32Array out = Napi::Int32Array::New(env, static_cast<size_t>(n));
    std::copy(tokens.begin(), tokens.begin() + n, out.Data());
    return out;
}

Napi::Value AddonModel::Detokenize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto res = Acquire(env);
    if (info.Length() < 1) throw Napi::TypeError::New(env, "detokenize(tokens) needs tokens");
    const auto tokens = RequireTokens(info[0], llama_vocab_n_tokens(res->vocab), "tokens");
    const bool unparse_special = info.Length() > 1 && info[1].ToBoolean().Value();
    std::string text(tokens.size() * 8 + 16, '\0');
    const int32_t n = CallWithRoom(text, [&](char* data, int32_t size) {
        return llama_detokenize(res->vocab, tokens.data(), static_cast<int32_t>(tokens.size()), data, size, false,
                                unparse_special);
    });
    if (n < 0) throw Napi::Error::New(env, "detokenization failed");
    text.resize(static_cast<size_t>(n));
    return Napi::String::New(env, text);
}

Napi::Value AddonModel::TokenToPiece(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto res = Acquire(env);
    if (info.Length() < 1) throw Napi::TypeError::New(env, "tokenToPiece(token) needs a token");
    Napi::Array one = Napi::Array::New(env, 1);
    one.Set(0u, info[0]);
    const auto tokens = RequireTokens(one, llama_vocab_n_tokens(res->vocab), "token");
    const bool special = info.Length() > 1 && info[1].ToBoolean().Value();
    char buf[256];
    const int32_t n = llama_token_to_piece(res->vocab, tokens[0], buf, sizeof(buf), 0, special);
    if (n < 0) throw Napi::Error::New(env, "token piece longer than 256 bytes");
    return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(n));
}

Napi::Value AddonModel::IsEog(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto res = Acquire(env);
    Napi::Array one = Napi::Array::New(env, 1);
    one.Set(0u, info.Length() > 0 ? info[0] : env.Undefined());
    const auto tokens = RequireTokens(one, llama_vocab_n_tokens(res->vocab), "token");
    return Napi::Boolean::New(env, llama_vocab_is_eog(res->vocab, tokens[0]));
}

Napi::Value AddonModel::CreateContext(const Napi::CallbackInfo& info) {
    return CreateContextWorker::Start(info, Acquire(info.Env()), Value());
}

Napi::Value AddonModel::Close(const Napi::CallbackInfo& info) {
    // Contexts and running workers hold their own reference: memory is freed when the last one lets go.
    resources_.reset();
    return info.Env().Undefined();
}

}  // namespace lg
