#include "backend-library.h"

#include <map>
#include <mutex>
#include <string>

#include "ggml-backend.h"
#include "llama.h"
#include "../util/promise-worker.h"
#include "../util/js-args.h"
#include "../util/log-capture.h"

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dlfcn.h>
#endif

namespace lg {
namespace {

using ScoreFn = int (*)();

bool IsAbsolute(const std::string& path) {
#ifdef _WIN32
    return path.size() > 2 && (path[1] == ':' || (path[0] == '\\' && path[1] == '\\'));
#else
    return !path.empty() && path[0] == '/';
#endif
}

std::string RequireAbsolutePath(const Napi::CallbackInfo& info, const char* what) {
    if (info.Length() < 1 || !info[0].IsString()) ThrowType(info.Env(), std::string(what) + " needs a path");
    std::string path = info[0].As<Napi::String>().Utf8Value();
    // Relative names would be searched for (current folder, PATH on Windows): only explicit files are loaded.
    if (!IsAbsolute(path)) ThrowType(info.Env(), std::string(what) + ": '" + path + "' is not an absolute path");
    return path;
}

// The platform's dynamic loader: open a library by absolute path (null and `error` set when it cannot be), look up
// a symbol, close it.
#ifdef _WIN32
using LibraryHandle = HMODULE;

std::wstring Utf8ToWide(const std::string& s) {
    const int n = MultiByteToWideChar(CP_UTF8, 0, s.c_str(), -1, nullptr, 0);
    std::wstring wide(static_cast<size_t>(n), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, s.c_str(), -1, wide.data(), n);
    return wide;
}

LibraryHandle OpenLibrary(const std::string& path, std::string& error) {
    HMODULE handle = LoadLibraryExW(Utf8ToWide(path).c_str(), nullptr,
                                    LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
    if (!handle) error = "LoadLibrary failed with error " + std::to_string(GetLastError());
    return handle;
}
void* LibrarySymbol(LibraryHandle handle, const char* name) {
    return reinterpret_cast<void*>(GetProcAddress(handle, name));
}
void CloseLibrary(LibraryHandle handle) {
    FreeLibrary(handle);
}
#else
using LibraryHandle = void*;

LibraryHandle OpenLibrary(const std::string& path, std::string& error) {
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* e = dlerror();
        error = e ? e : "dlopen failed";
    }
    return handle;
}
void* LibrarySymbol(LibraryHandle handle, const char* name) {
    return dlsym(handle, name);
}
void CloseLibrary(LibraryHandle handle) {
    dlclose(handle);
}
#endif

// Opens the library only to ask its score, as ggml_backend_load_best does, then closes it again.
int ScoreLibrary(const std::string& path, std::string& error) {
    LibraryHandle handle = OpenLibrary(path, error);
    if (!handle) return -1;
    auto fn = reinterpret_cast<ScoreFn>(LibrarySymbol(handle, "ggml_backend_score"));
    const int score = fn ? fn() : -1;
    if (!fn) error = "no ggml_backend_score in the library";
    CloseLibrary(handle);
    return score;
}

std::mutex g_mutex;
std::map<std::string, ggml_backend_reg_t> g_loaded;  // path -> registered backend
bool g_dynamic = false;
std::once_flag g_dynamic_once;
std::once_flag g_llama_once;

Napi::Object RegToJs(Napi::Env env, ggml_backend_reg_t reg) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", ggml_backend_reg_name(reg));
    Napi::Array devices = Napi::Array::New(env);
    for (size_t i = 0; i < ggml_backend_reg_dev_count(reg); i++) {
        devices.Set(static_cast<uint32_t>(i), DeviceToJs(env, ggml_backend_reg_dev_get(reg, i)));
    }
    o.Set("devices", devices);
    return o;
}

// Registers the library once per path; nullptr with the reason in `error`.
ggml_backend_reg_t LoadOnce(const std::string& path, std::string& error) {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (auto it = g_loaded.find(path); it != g_loaded.end()) return it->second;
    BeginLogScope();
    ggml_backend_reg_t reg = ggml_backend_load(path.c_str());
    if (!reg) {
        error = WithLogDetail("cannot load the ggml backend '" + path + "'");
        return nullptr;
    }
    g_loaded[path] = reg;
    return reg;
}

class LoadBackendWorker : public PromiseWorker {
 public:
    LoadBackendWorker(Napi::Env env, std::string path)
        : PromiseWorker(env, "llavaguard.loadBackend"), path_(std::move(path)) {}

 private:
    void Compute() override {
        std::string error;
        reg_ = LoadOnce(path_, error);
        if (!reg_) SetError(error);
    }
    Napi::Value Result(Napi::Env env) override { return RegToJs(env, reg_); }

    std::string path_;
    ggml_backend_reg_t reg_ = nullptr;
};

}  // namespace

bool BackendsAreDynamic() {
    std::call_once(g_dynamic_once, [] { g_dynamic = ggml_backend_reg_count() == 0; });
    return g_dynamic;
}

Napi::Object DeviceToJs(Napi::Env env, ggml_backend_dev_t dev) {
    size_t free = 0, total = 0;
    ggml_backend_dev_memory(dev, &free, &total);
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", ggml_backend_dev_name(dev));
    d.Set("description", ggml_backend_dev_description(dev));
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
    d.Set("backend", reg ? ggml_backend_reg_name(reg) : "");
    const auto type = ggml_backend_dev_type(dev);
    d.Set("type", type == GGML_BACKEND_DEVICE_TYPE_CPU    ? "cpu"
                  : type == GGML_BACKEND_DEVICE_TYPE_GPU  ? "gpu"
                  : type == GGML_BACKEND_DEVICE_TYPE_IGPU ? "igpu"
                                                          : "other");
    d.Set("memoryFree", static_cast<double>(free));
    d.Set("memoryTotal", static_cast<double>(total));
    return d;
}

Napi::Value ScoreBackendLibrary(const Napi::CallbackInfo& info) {
    const std::string path = RequireAbsolutePath(info, "scoreBackendLibrary");
    std::string error;
    const int score = ScoreLibrary(path, error);
    if (score < 0) throw Napi::Error::New(info.Env(), "cannot score the ggml backend '" + path + "': " + error);
    return Napi::Number::New(info.Env(), score);
}

Napi::Value LoadBackendLibrary(const Napi::CallbackInfo& info) {
    BackendsAreDynamic();  // decided before the first library is registered
    return (new LoadBackendWorker(info.Env(), RequireAbsolutePath(info, "loadBackendLibrary")))->QueueWithPromise();
}

Napi::Value LoadCpuBackendLibrary(const Napi::CallbackInfo& info) {
    BackendsAreDynamic();
    const std::string path = RequireAbsolutePath(info, "loadCpuBackendLibrary");
    std::string error;
    ggml_backend_reg_t reg = LoadOnce(path, error);
    if (!reg) throw Napi::Error::New(info.Env(), error);
    return RegToJs(info.Env(), reg);
}

Napi::Value LoadSystemLibrary(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "loadSystemLibrary needs a library name");
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    // A bare name only: a path would bypass the system search this is for.
    if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos) {
        ThrowType(env, "loadSystemLibrary: '" + name + "' is not a bare library name");
    }
#ifdef _WIN32
    if (!LoadLibraryExW(Utf8ToWide(name).c_str(), nullptr,
                        LOAD_LIBRARY_SEARCH_SYSTEM32 | LOAD_LIBRARY_SEARCH_DEFAULT_DIRS)) {
        throw Napi::Error::New(env,
                               name + " is not installed (LoadLibrary error " + std::to_string(GetLastError()) + ")");
    }
#else
    // Kept open for the life of the process, as the backend that needs it will be.
    if (!dlopen(name.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
        const char* e = dlerror();
        throw Napi::Error::New(env, e ? std::string(e) : name + " cannot be opened");
    }
#endif
    return env.Undefined();
}

Napi::Value InitBackends(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const bool dynamic = BackendsAreDynamic();
    if (!ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU)) {
        // llama_backend_init() would otherwise search node's and the current folder for one.
        ThrowType(env, "no CPU backend is loaded: load a libggml-cpu library with loadBackendLibrary() first");
    }
    std::call_once(g_llama_once, [] { llama_backend_init(); });
    Napi::Object o = Napi::Object::New(env);
    o.Set("dynamic", dynamic);
    return o;
}

Napi::Value LlamaLibraryFolder(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
#ifdef _WIN32
    HMODULE module = nullptr;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            reinterpret_cast<LPCWSTR>(&llama_backend_init), &module)) {
        return env.Null();
    }
    wchar_t buffer[32768];
    const DWORD n = GetModuleFileNameW(module, buffer, 32768);
    if (n == 0) return env.Null();
    std::u16string path(reinterpret_cast<const char16_t*>(buffer), n);
    const size_t slash = path.find_last_of(u"\\/");
    return Napi::String::New(env, slash == std::u16string::npos ? path : path.substr(0, slash));
#else
    Dl_info dl{};
    if (!dladdr(reinterpret_cast<void*>(&llama_backend_init), &dl) || !dl.dli_fname) return env.Null();
    std::string path(dl.dli_fname);
    const size_t slash = path.find_last_of('/');
    return Napi::String::New(env, slash == std::string::npos ? std::string(".") : path.substr(0, slash));
#endif
}

Napi::Value ListBackends(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    for (size_t i = 0; i < ggml_backend_reg_count(); i++) {
        out.Set(static_cast<uint32_t>(i), RegToJs(env, ggml_backend_reg_get(i)));
    }
    return out;
}

}  // namespace lg
