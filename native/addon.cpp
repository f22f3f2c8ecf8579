// Entry point: registers the native classes and functions, nothing else.
#include <napi.h>

#include "backend/backend-library.h"
#include "context/addon-context.h"
#include "context/image-embeddings.h"
#include "context/pack-features.h"
#include "model/addon-model.h"
#include "model/load-model-worker.h"
#include "probe/attention-probe-worker.h"
#include "sampling/abort-handle.h"
#include "tools/quantize-worker.h"
#include "util/addon-data.h"
#include "util/log-capture.h"
#include "util/system-info.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    // llama_backend_init() waits for initBackends(): with a prebuilt ggml, JS first picks the backend libraries.
    static bool log_ready = [] {
        lg::InstallLogCapture();
        return true;
    }();
    (void)log_ready;
    env.SetInstanceData<lg::AddonData>(new lg::AddonData());
    lg::AddonModel::Init(env, exports);
    lg::AddonContext::Init(env, exports);
    lg::AbortHandle::Init(env, exports);
    lg::ImageEmbeddingsHandle::Init(env, exports);
    exports.Set("loadModel", Napi::Function::New(env, lg::LoadModelWorker::Start, "loadModel"));
    exports.Set("packOneVisionFeatures", Napi::Function::New(env, lg::PackOneVisionFeatures, "packOneVisionFeatures"));
    exports.Set("quantize", Napi::Function::New(env, lg::QuantizeWorker::Start, "quantize"));
    exports.Set("probeAttention", Napi::Function::New(env, lg::AttentionProbeWorker::Start, "probeAttention"));
    exports.Set("scoreBackendLibrary", Napi::Function::New(env, lg::ScoreBackendLibrary, "scoreBackendLibrary"));
    exports.Set("loadCpuBackendLibrary", Napi::Function::New(env, lg::LoadCpuBackendLibrary, "loadCpuBackendLibrary"));
    exports.Set("loadBackendLibrary", Napi::Function::New(env, lg::LoadBackendLibrary, "loadBackendLibrary"));
    exports.Set("llamaLibraryFolder", Napi::Function::New(env, lg::LlamaLibraryFolder, "llamaLibraryFolder"));
    exports.Set("backends", Napi::Function::New(env, lg::ListBackends, "backends"));
    exports.Set("loadSystemLibrary", Napi::Function::New(env, lg::LoadSystemLibrary, "loadSystemLibrary"));
    exports.Set("initBackends", Napi::Function::New(env, lg::InitBackends, "initBackends"));
    exports.Set("systemInfo", Napi::Function::New(env, lg::SystemInfo, "systemInfo"));
    return exports;
}

}  // namespace

NODE_API_MODULE(llavaguard, Init)
