// Per-environment constructors (an Electron app or worker_threads may load the addon in several environments).
#pragma once
#include <napi.h>

namespace lg {

struct AddonData {
    Napi::FunctionReference model_ctor;
    Napi::FunctionReference context_ctor;
    Napi::FunctionReference abort_ctor;
    Napi::FunctionReference embeddings_ctor;
};

inline AddonData& GetAddonData(Napi::Env env) {
    return *env.GetInstanceData<AddonData>();
}

}  // namespace lg
