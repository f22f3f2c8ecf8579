// Loads the text model and its mmproj together, off the event loop, reporting progress to JS.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "model-resources.h"
#include "../util/promise-worker.h"

namespace lg {

struct LoadModelOptions {
    std::string model_path;
    std::string mmproj_path;  // empty: text only
    int32_t gpu_layers = 0;
    bool use_mmap = true;
    bool mmproj_use_gpu = true;
    int32_t mmproj_threads = 4;
    llama_flash_attn_type mmproj_flash_attn = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    int32_t image_min_tokens = -1;
    int32_t image_max_tokens = -1;
    bool warmup = false;
    bool vocab_only = false;
    // Names of the ggml devices (e.g. "Vulkan0") that take offloaded layers and the vision tower; when
    // has_devices is set and the list is empty, everything stays on the CPU.
    bool has_devices = false;
    std::vector<std::string> devices;
};

class LoadModelWorker : public PromiseWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info);  // loadModel(options, onProgress?) -> Promise<AddonModel>

 private:
    void Compute() override;
    Napi::Value Result(Napi::Env env) override;
    void BeforeSettle() override;
    LoadModelWorker(Napi::Env env, LoadModelOptions options, Napi::Function on_progress);
    static bool OnProgress(float progress, void* self);

    LoadModelOptions options_;
    Napi::ThreadSafeFunction progress_;
    bool has_progress_ = false;
    std::atomic<int> last_reported_{-1};
    std::shared_ptr<ModelResources> resources_;
};

}  // namespace lg
