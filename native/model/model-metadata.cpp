#include "model-metadata.h"

#include <string>
#include <vector>

namespace lg {
namespace {

std::string MetaString(int32_t (*get)(const llama_model*, int32_t, char*, size_t), const llama_model* m, int32_t i) {
    std::vector<char> buf(256);
    int32_t n = get(m, i, buf.data(), buf.size());
    if (n < 0) return "";
    if (static_cast<size_t>(n) >= buf.size()) {
        buf.resize(static_cast<size_t>(n) + 1);
        n = get(m, i, buf.data(), buf.size());
    }
    return std::string(buf.data(), static_cast<size_t>(n));
}

Napi::Value TokenOrNull(Napi::Env env, llama_token t) {
    return t < 0 ? env.Null() : Napi::Number::New(env, t);
}

}  // namespace

Napi::Object ModelInfoToJs(Napi::Env env, const ModelResources& res) {
    const llama_model* m = res.model.get();
    Napi::Object o = Napi::Object::New(env);
    o.Set("modelPath", res.model_path);
    o.Set("mmprojPath", res.mmproj_path);
    char desc[256];
    llama_model_desc(m, desc, sizeof(desc));
    o.Set("description", std::string(desc));
    o.Set("sizeBytes", Napi::Number::New(env, static_cast<double>(llama_model_size(m))));
    o.Set("parameters", Napi::Number::New(env, static_cast<double>(llama_model_n_params(m))));
    o.Set("nEmbd", llama_model_n_embd(m));
    o.Set("nLayer", llama_model_n_layer(m));
    o.Set("nCtxTrain", llama_model_n_ctx_train(m));
    o.Set("nVocab", llama_vocab_n_tokens(res.vocab));
    o.Set("bos", TokenOrNull(env, llama_vocab_bos(res.vocab)));
    o.Set("eos", TokenOrNull(env, llama_vocab_eos(res.vocab)));
    o.Set("eot", TokenOrNull(env, llama_vocab_eot(res.vocab)));
    o.Set("addBos", llama_vocab_get_add_bos(res.vocab));
    const char* tmpl = llama_model_chat_template(m, nullptr);
    o.Set("chatTemplate", tmpl ? Napi::Value(Napi::String::New(env, tmpl)) : env.Null());
    o.Set("hasVision", res.mtmd != nullptr && mtmd_support_vision(res.mtmd.get()));
    o.Set("mediaMarker", mtmd_default_marker());
    o.Set("gpuBackend", LLAVAGUARD_GPU_BACKEND);

    Napi::Object meta = Napi::Object::New(env);
    const int32_t n = llama_model_meta_count(m);
    for (int32_t i = 0; i < n; i++) {
        meta.Set(MetaString(llama_model_meta_key_by_index, m, i), MetaString(llama_model_meta_val_str_by_index, m, i));
    }
    o.Set("metadata", meta);
    return o;
}

}  // namespace lg
