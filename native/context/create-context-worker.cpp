#include "create-context-worker.h"

#include <thread>

#include "../util/flash-attn.h"
#include "../util/js-args.h"
#include "../util/log-capture.h"
#include "addon-context.h"

namespace lg {
namespace {

ggml_type ParseCacheType(const Napi::Object& opts, const char* key) {
    const std::string v = OptionalString(opts, key, "f16");
    if (v == "f16") return GGML_TYPE_F16;
    if (v == "f32") return GGML_TYPE_F32;
    if (v == "bf16") return GGML_TYPE_BF16;
    if (v == "q8_0") return GGML_TYPE_Q8_0;
    if (v == "q4_0") return GGML_TYPE_Q4_0;
    ThrowType(opts.Env(),
              std::string("option '") + key + "' must be one of f16, f32, bf16, q8_0, q4_0 (got '" + v + "')");
}

}  // namespace

Napi::Value CreateContextWorker::Start(const Napi::CallbackInfo& info, std::shared_ptr<ModelResources> model,
                                       Napi::Value) {
    Napi::Env env = info.Env();
    Napi::Object opts = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
    llama_context_params p = llama_context_default_params();
    const int64_t hw = std::max(1u, std::thread::hardware_concurrency());
    const int64_t n_seq = OptionalInt(opts, "sequences", 1, 1, 64);
    const int64_t n_ctx = OptionalInt(opts, "contextSize", 4096, 64, 1 << 22);
    const int64_t n_batch = OptionalInt(opts, "batchSize", std::min<int64_t>(2048, n_ctx), 1, n_ctx);
    const int64_t n_ubatch = OptionalInt(opts, "ubatchSize", std::min<int64_t>(512, n_batch), 1, n_batch);
    const int64_t threads = OptionalInt(opts, "threads", hw, 1, 1024);
    p.n_ctx = static_cast<uint32_t>(n_ctx);
    p.n_batch = static_cast<uint32_t>(n_batch);
    p.n_ubatch = static_cast<uint32_t>(n_ubatch);
    p.n_seq_max = static_cast<uint32_t>(n_seq);
    p.n_threads = static_cast<int32_t>(threads);
    p.n_threads_batch = static_cast<int32_t>(OptionalInt(opts, "threadsBatch", threads, 1, 1024));
    p.flash_attn_type = ParseFlashAttn(opts, "flashAttention", LLAMA_FLASH_ATTN_TYPE_DISABLED);
    p.type_k = ParseCacheType(opts, "cacheTypeK");
    p.type_v = ParseCacheType(opts, "cacheTypeV");
    p.kv_unified = OptionalBool(opts, "kvUnified", true);
    p.no_perf = false;
    if (p.type_v != GGML_TYPE_F16 && p.type_v != GGML_TYPE_F32 && p.type_v != GGML_TYPE_BF16 &&
        p.flash_attn_type == LLAMA_FLASH_ATTN_TYPE_DISABLED) {
        ThrowType(env, "a quantized V cache (cacheTypeV) needs flashAttention 'on'");
    }
    return (new CreateContextWorker(env, std::move(model), p))->QueueWithPromise();
}

CreateContextWorker::CreateContextWorker(Napi::Env env, std::shared_ptr<ModelResources> model,
                                         llama_context_params params)
    : PromiseWorker(env, "llavaguard.createContext"), res_(std::make_shared<ContextResources>()), params_(params) {
    res_->model = std::move(model);
    res_->n_seq = params.n_seq_max;
}

void CreateContextWorker::Compute() {
    BeginLogScope();
    params_.abort_callback = &ContextResources::AbortCallback;
    params_.abort_callback_data = res_.get();
    res_->ctx.reset(llama_init_from_model(res_->model->model.get(), params_));
    if (!res_->ctx) SetError(WithLogDetail("failed to create a context"));
}

Napi::Value CreateContextWorker::Result(Napi::Env env) {
    return AddonContext::NewInstance(env, std::move(res_));
}

}  // namespace lg
