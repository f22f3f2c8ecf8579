#include "model-metadata.h"

#include <cctype>
#include <string>
#include <vector>

#include "../backend/backend-library.h"
#include "ggml-backend.h"

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

// The backend that holds the offloaded layers: chosen at load time with a prebuilt ggml, fixed at build time
// with one compiled from source.
std::string GpuBackendOf(const ModelResources& res) {
    if (!BackendsAreDynamic()) return LLAVAGUARD_GPU_BACKEND;
    if (res.devices.empty()) return "cpu";
    ggml_backend_dev_t dev = ggml_backend_dev_by_name(res.devices.front().c_str());
    std::string name = dev ? ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev)) : "cpu";
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
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
    o.Set("gpuBackend", GpuBackendOf(res));
    Napi::Array devices = Napi::Array::New(env);
    for (size_t i = 0; i < res.devices.size(); i++) devices.Set(static_cast<uint32_t>(i), res.devices[i]);
    o.Set("devices", devices);
    Napi::Array placement = Napi::Array::New(env);
    for (size_t i = 0; i < res.placement_log.size(); i++) placement.Set(static_cast<uint32_t>(i), res.placement_log[i]);
    o.Set("placementLog", placement);

    Napi::Object meta = Napi::Object::New(env);
    const int32_t n = llama_model_meta_count(m);
    for (int32_t i = 0; i < n; i++) {
        meta.Set(MetaString(llama_model_meta_key_by_index, m, i), MetaString(llama_model_meta_val_str_by_index, m, i));
    }
    o.Set("metadata", meta);
    return o;
}

}  // namespace lg
