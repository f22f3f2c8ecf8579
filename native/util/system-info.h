#pragma once
#include <napi.h>

namespace lg {
// { backend, llamaSystemInfo, devices: [{ name, description, type, memoryFree, memoryTotal }] }
Napi::Value SystemInfo(const Napi::CallbackInfo& info);
}  // namespace lg
