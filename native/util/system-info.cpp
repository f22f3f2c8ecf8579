#include "system-info.h"

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
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        size_t free = 0, total = 0;
        ggml_backend_dev_memory(dev, &free, &total);
        Napi::Object d = Napi::Object::New(env);
        d.Set("name", ggml_backend_dev_name(dev));
        d.Set("description", ggml_backend_dev_description(dev));
        const auto type = ggml_backend_dev_type(dev);
        d.Set("type", type == GGML_BACKEND_DEVICE_TYPE_CPU   ? "cpu"
                      : type == GGML_BACKEND_DEVICE_TYPE_GPU ? "gpu"
                                                             : "other");
        d.Set("memoryFree", static_cast<double>(free));
        d.Set("memoryTotal", static_cast<double>(total));
        devices.Set(static_cast<uint32_t>(i), d);
    }
    o.Set("devices", devices);
    return o;
}

}  // namespace lg
