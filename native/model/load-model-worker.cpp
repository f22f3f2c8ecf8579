#include "load-model-worker.h"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <thread>

#include "ggml-backend.h"

#include "../sampling/sequence-sampler.h"
#include "../util/flash-attn.h"
#include "../util/js-args.h"
#include "../util/log-capture.h"
#include "addon-model.h"
#include "max-encode-batch.h"

namespace lg {

Napi::Value LoadModelWorker::Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object opts = RequireObject(info, 0, "loadModel options");
    LoadModelOptions o;
    o.model_path = RequireString(opts, "modelPath");
    o.mmproj_path = OptionalString(opts, "mmprojPath", "");
    o.gpu_layers = static_cast<int32_t>(OptionalInt(opts, "gpuLayers", 0, -1, 100000));
    o.use_mmap = OptionalBool(opts, "useMmap", true);
    o.mmproj_use_gpu = OptionalBool(opts, "mmprojUseGpu", o.gpu_layers != 0);
    const int64_t hw = std::max(1u, std::thread::hardware_concurrency());
    o.mmproj_threads = static_cast<int32_t>(OptionalInt(opts, "mmprojThreads", hw, 1, 1024));
    o.mmproj_flash_attn = ParseFlashAttn(opts, "mmprojFlashAttention", LLAMA_FLASH_ATTN_TYPE_DISABLED);
    o.image_min_tokens = static_cast<int32_t>(OptionalInt(opts, "imageMinTokens", -1, -1, 1 << 20));
    o.image_max_tokens = static_cast<int32_t>(OptionalInt(opts, "imageMaxTokens", -1, -1, 1 << 20));
    o.warmup = OptionalBool(opts, "warmup", false);
    o.vocab_only = OptionalBool(opts, "vocabOnly", false);
    if (o.vocab_only && !o.mmproj_path.empty()) ThrowType(env, "a vocabulary-only load takes no mmproj");
    if (o.model_path.empty()) ThrowType(env, "option 'modelPath' must not be empty");
    o.has_devices = opts.Has("devices") && !opts.Get("devices").IsUndefined();
    o.devices = OptionalStringArray(opts, "devices", 16, 256);
    for (const auto& name : o.devices) {
        if (!ggml_backend_dev_by_name(name.c_str())) {
            ThrowType(env, "option 'devices': no ggml device named '" + name + "' is loaded");
        }
    }

    Napi::Function on_progress;
    if (info.Length() > 1 && info[1].IsFunction()) on_progress = info[1].As<Napi::Function>();
    return (new LoadModelWorker(env, std::move(o), on_progress))->QueueWithPromise();
}

LoadModelWorker::LoadModelWorker(Napi::Env env, LoadModelOptions options, Napi::Function on_progress)
    : PromiseWorker(env, "llavaguard.loadModel"), options_(std::move(options)) {
    if (!on_progress.IsEmpty()) {
        progress_ = Napi::ThreadSafeFunction::New(env, on_progress, "llavaguard.loadProgress", 0, 1);
        has_progress_ = true;
    }
}

bool LoadModelWorker::OnProgress(float progress, void* self_ptr) {
    auto* self = static_cast<LoadModelWorker*>(self_ptr);
    if (!self->has_progress_) return true;
    // Reported in whole percents: llama.cpp calls this once per tensor.
    const int percent = static_cast<int>(progress * 100.0f);
    if (percent == self->last_reported_.exchange(percent)) return true;
    // As in GenerateWorker::Emit: a call run during a terminated worker_thread's teardown fails, caught here.
    self->progress_.NonBlockingCall([percent](Napi::Env env, Napi::Function fn) {
        try {
            fn.Call({Napi::Number::New(env, percent / 100.0)});
        } catch (const Napi::Error&) {
        }
    });
    return true;
}

void LoadModelWorker::Compute() {
    BeginLogScope();
    auto res = std::make_shared<ModelResources>();
    res->model_path = options_.model_path;
    res->mmproj_path = options_.mmproj_path;

    if (FILE* f = std::fopen(options_.model_path.c_str(), "rb")) {
        std::fclose(f);
    } else {
        SetError("cannot open model file '" + options_.model_path + "'");
        return;
    }
    if (!options_.mmproj_path.empty()) {
        if (FILE* f = std::fopen(options_.mmproj_path.c_str(), "rb")) {
            std::fclose(f);
        } else {
            SetError("cannot open mmproj file '" + options_.mmproj_path + "'");
            return;
        }
    }

    // A NULL-terminated device list; llama.cpp reads it during the load only.
    std::vector<ggml_backend_dev_t> devices;
    for (const auto& name : options_.devices) devices.push_back(ggml_backend_dev_by_name(name.c_str()));
    devices.push_back(nullptr);
    ScopedLogCollector placement({"offloaded", "CLIP using", "using device"});

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = options_.has_devices && options_.devices.empty() ? 0 : options_.gpu_layers;
    if (options_.has_devices) mp.devices = devices.data();
    mp.load_mode = options_.use_mmap ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
    mp.vocab_only = options_.vocab_only;
    mp.progress_callback = &LoadModelWorker::OnProgress;
    mp.progress_callback_user_data = this;
    res->model.reset(llama_model_load_from_file(options_.model_path.c_str(), mp));
    if (!res->model) {
        SetError(WithLogDetail("failed to load model '" + options_.model_path + "'"));
        return;
    }
    res->vocab = llama_model_get_vocab(res->model.get());
    res->tokens_by_first_byte = FirstByteIndex::Build(res->vocab, SequenceSampler::kProbeIds);

    if (!options_.mmproj_path.empty()) {
        BeginLogScope();
        mtmd_context_params cp = mtmd_context_params_default();
        cp.use_gpu = options_.mmproj_use_gpu && !(options_.has_devices && options_.devices.empty());
        if (cp.use_gpu && !options_.devices.empty()) cp.device = devices.front();
        cp.print_timings = false;
        cp.n_threads = options_.mmproj_threads;
        cp.flash_attn_type = options_.mmproj_flash_attn;
        cp.warmup = options_.warmup;
        cp.image_min_tokens = options_.image_min_tokens;
        cp.image_max_tokens = options_.image_max_tokens;
        // encodeImages' `batch` bounds a batched encode, per request
        cp.batch_max_tokens = std::numeric_limits<int32_t>::max();
        res->mtmd.reset(mtmd_init_from_file(options_.mmproj_path.c_str(), res->model.get(), cp));
        if (!res->mtmd) {
            SetError(WithLogDetail("failed to load mmproj '" + options_.mmproj_path + "' for model '" +
                                   options_.model_path + "'"));
            return;
        }
        if (!mtmd_support_vision(res->mtmd.get())) {
            SetError("mmproj '" + options_.mmproj_path + "' has no vision encoder");
            return;
        }
    }
    if (res->mtmd) res->max_encode_batch = MaxEncodeBatch(options_.mmproj_path);
    res->devices = options_.devices;
    res->placement_log = placement.Take();
    // LLAVAGUARD_GPU_BATCHED_ENCODE=1 lifts the guard below, to try a GPU or to reproduce lavapipe's crash
    // (scripts/debug/vulkan-batched-encode.ts); never on by default
    const char* gpu_batch = std::getenv("LLAVAGUARD_GPU_BATCHED_ENCODE");
    const bool gpu_batch_asked = gpu_batch != nullptr && std::string(gpu_batch) == "1";
    for (const std::string& line : res->placement_log) {
        if (!gpu_batch_asked && line.find("CLIP using") != std::string::npos &&
            line.find("CLIP using CPU") == std::string::npos)
            res->max_encode_batch = 1;
    }
    resources_ = std::move(res);
}

void LoadModelWorker::BeforeSettle() {
    if (has_progress_) progress_.Release();
}

Napi::Value LoadModelWorker::Result(Napi::Env env) {
    return AddonModel::NewInstance(env, std::move(resources_));
}

}  // namespace lg
