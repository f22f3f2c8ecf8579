#include "addon-context.h"

#include "../util/js-args.h"
#include "encode-images-worker.h"
#include "evaluate-worker.h"
#include "generate-worker.h"

namespace lg {

void AddonContext::Init(Napi::Env env, Napi::Object exports) {
    Export(env, exports,
           {
               InstanceMethod<&AddonContext::Info>("info"),
               InstanceMethod<&AddonContext::Evaluate>("evaluate"),
               InstanceMethod<&AddonContext::Generate>("generate"),
               InstanceMethod<&AddonContext::Admit>("admit"),
               InstanceMethod<&AddonContext::EncodeImages>("encodeImages"),
               InstanceMethod<&AddonContext::ClearSequence>("clearSequence"),
               InstanceMethod<&AddonContext::CopySequence>("copySequence"),
               InstanceMethod<&AddonContext::SequenceLength>("sequenceLength"),
               InstanceMethod<&AddonContext::Close>("close"),
               InstanceAccessor("closed", &AddonContext::IsClosed, nullptr),
           });
}

llama_seq_id AddonContext::RequireSequence(Napi::Env env, const Napi::Value& v) const {
    if (!v.IsNumber()) throw Napi::TypeError::New(env, "sequence must be a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (d < 0 || d >= resources_->n_seq || static_cast<double>(static_cast<int32_t>(d)) != d) {
        throw Napi::RangeError::New(
            env, "sequence " + std::to_string(d) + " is outside 0.." + std::to_string(resources_->n_seq - 1));
    }
    return static_cast<llama_seq_id>(d);
}

Napi::Value AddonContext::Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto res = Acquire(env);
    llama_context* ctx = res->ctx.get();
    Napi::Object o = Napi::Object::New(env);
    o.Set("contextSize", llama_n_ctx(ctx));
    o.Set("sequenceContextSize", llama_n_ctx_seq(ctx));
    o.Set("batchSize", llama_n_batch(ctx));
    o.Set("ubatchSize", llama_n_ubatch(ctx));
    o.Set("sequences", llama_n_seq_max(ctx));
    return o;
}

Napi::Value AddonContext::Evaluate(const Napi::CallbackInfo& info) {
    return EvaluateWorker::Start(info, Acquire(info.Env()));
}

Napi::Value AddonContext::Generate(const Napi::CallbackInfo& info) {
    return GenerateWorker::Start(info, Acquire(info.Env()));
}

Napi::Value AddonContext::Admit(const Napi::CallbackInfo& info) {
    return GenerateWorker::Admit(info, Acquire(info.Env()));
}

Napi::Value AddonContext::EncodeImages(const Napi::CallbackInfo& info) {
    return EncodeImagesWorker::Start(info, Acquire(info.Env()));
}

Napi::Value AddonContext::ClearSequence(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto res = Acquire(env);
    if (res->busy.load()) throw Napi::Error::New(env, "the context is busy");
    const llama_seq_id seq = info.Length() > 0 && !info[0].IsUndefined() ? RequireSequence(env, info[0]) : -1;
    const int32_t p0 = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : -1;
    llama_memory_seq_rm(llama_get_memory(res->ctx.get()), seq, p0 < 0 ? -1 : p0, -1);
    return env.Undefined();
}

Napi::Value AddonContext::CopySequence(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto res = Acquire(env);
    if (res->busy.load()) throw Napi::Error::New(env, "the context is busy");
    if (info.Length() < 2) throw Napi::TypeError::New(env, "copySequence(source, destination) needs two sequences");
    const llama_seq_id src = RequireSequence(env, info[0]);
    const llama_seq_id dst = RequireSequence(env, info[1]);
    if (src == dst) return env.Undefined();
    llama_memory_t mem = llama_get_memory(res->ctx.get());
    llama_memory_seq_rm(mem, dst, -1, -1);
    llama_memory_seq_cp(mem, src, dst, -1, -1);
    return env.Undefined();
}

Napi::Value AddonContext::SequenceLength(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto res = Acquire(env);
    const llama_seq_id seq = RequireSequence(env, info.Length() > 0 ? info[0] : env.Undefined());
    return Napi::Number::New(env, llama_memory_seq_pos_max(llama_get_memory(res->ctx.get()), seq) + 1);
}

Napi::Value AddonContext::Close(const Napi::CallbackInfo& info) {
    // A running worker keeps its own reference; raising `closing` makes it stop at the next token.
    if (resources_) resources_->closing.store(true);
    resources_.reset();
    return info.Env().Undefined();
}

}  // namespace lg
