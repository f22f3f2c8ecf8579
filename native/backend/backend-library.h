// ggml's backends in this process. A prebuilt ggml (GGML_BACKEND_DL) registers none by itself and, left alone,
// llama_backend_init() would look for them in node's folder and the current folder (a DLL-planting risk):
// lib/bindings chooses the library files and they are loaded here, by absolute path only.
#pragma once
#include <napi.h>

#include "ggml-backend.h"

namespace lg {

// scoreBackendLibrary(path) -> number: the library's ggml_backend_score() (0: this CPU cannot run it).
Napi::Value ScoreBackendLibrary(const Napi::CallbackInfo& info);
// loadBackendLibrary(path) -> Promise<{ name, devices }>, on the compute thread; a path is loaded once.
Napi::Value LoadBackendLibrary(const Napi::CallbackInfo& info);
// loadCpuBackendLibrary(path) -> { name, devices }: synchronous, since it is part of loading the addon (a
// small library, no device to open); GPU backends (which open drivers) load off the event loop.
Napi::Value LoadCpuBackendLibrary(const Napi::CallbackInfo& info);
// loadSystemLibrary(name) -> undefined: opens a GPU driver library (e.g. "libvulkan.so.1") by its bare name
// before the backend that needs it. node-llama-cpp's backends carry an empty RUNPATH entry, which means the current
// folder; the addon's own search path is clean, so the driver comes from the system and the backend reuses it.
Napi::Value LoadSystemLibrary(const Napi::CallbackInfo& info);
// initBackends() -> { dynamic }: llama_backend_init() once, after the backends chosen by JS are loaded.
Napi::Value InitBackends(const Napi::CallbackInfo& info);
// backends() -> [{ name, devices: [{ name, description, type, memoryFree, memoryTotal }] }]
Napi::Value ListBackends(const Napi::CallbackInfo& info);

// llamaLibraryFolder() -> string | null: the folder libllama was loaded from (a prebuilt build keeps its CPU
// variants there), as the dynamic linker resolved it through the addon's relative RUNPATH.
Napi::Value LlamaLibraryFolder(const Napi::CallbackInfo& info);

// Whether ggml had no backend compiled in when the addon loaded (a GGML_BACKEND_DL build).
bool BackendsAreDynamic();
Napi::Object DeviceToJs(Napi::Env env, ggml_backend_dev_t dev);

}  // namespace lg
