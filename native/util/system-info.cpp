#include "system-info.h"

#include "../backend/backend-library.h"
#include "ggml-backend.h"
#include "llama.h"

namespace lg {

Napi::Value SystemInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("backend", LLAVAGUARD_GPU_BACKEND);
    o.Set("llamaSystemInfo", llama_print_system_info());
    o.Set("supportsGpuOffload", llama_supports_gpu_offload());
    Napi::Array devices = Napi::Array::New(env);
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        devices.Set(static_cast<uint32_t>(i), DeviceToJs(env, ggml_backend_dev_get(i)));
    }
    o.Set("devices", devices);
    o.Set("dynamicBackends", BackendsAreDynamic());
    return o;
}

}  // namespace lg
