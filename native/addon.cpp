// Entry point: registers the native classes and functions, nothing else.
#include <napi.h>

#include "context/addon-context.h"
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
    static bool backend_ready = [] {
        lg::InstallLogCapture();
        llama_backend_init();
        return true;
    }();
    (void)backend_ready;
    env.SetInstanceData<lg::AddonData>(new lg::AddonData());
    lg::AddonModel::Init(env, exports);
    lg::AddonContext::Init(env, exports);
    lg::AbortHandle::Init(env, exports);
    exports.Set("loadModel", Napi::Function::New(env, lg::LoadModelWorker::Start, "loadModel"));
    exports.Set("quantize", Napi::Function::New(env, lg::QuantizeWorker::Start, "quantize"));
    exports.Set("probeAttention", Napi::Function::New(env, lg::AttentionProbeWorker::Start, "probeAttention"));
    exports.Set("systemInfo", Napi::Function::New(env, lg::SystemInfo, "systemInfo"));
    return exports;
}

}  // namespace

NODE_API_MODULE(llavaguard, Init)
