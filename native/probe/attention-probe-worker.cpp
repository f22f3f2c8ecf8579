#include "attention-probe-worker.h"

#include <string>

#include "../util/js-args.h"

namespace lg {
namespace {

constexpr int64_t kMaxCases = 64;

AttentionCase ParseCase(Napi::Env env, const Napi::Value& value, size_t index) {
    const std::string where = "probeAttention: cases[" + std::to_string(index) + "]";
    if (!value.IsObject()) ThrowType(env, where + " must be an object");
    const Napi::Object o = value.As<Napi::Object>();
    AttentionCase c;
    c.head_dim = static_cast<int32_t>(OptionalInt(o, "headDim", 0, 1, 1024));
    c.heads = static_cast<int32_t>(OptionalInt(o, "heads", 0, 1, 1024));
    c.kv_heads = static_cast<int32_t>(OptionalInt(o, "kvHeads", c.heads, 1, 1024));
    c.queries = static_cast<int32_t>(OptionalInt(o, "queries", 0, 1, 1 << 20));
    c.keys = static_cast<int32_t>(OptionalInt(o, "keys", 0, 1, 1 << 20));
    const std::string layout = OptionalString(o, "layout", "");
    if (layout != "kv-cache" && layout != "vision") ThrowType(env, where + ".layout must be 'kv-cache' or 'vision'");
    c.layout = layout == "kv-cache" ? AttentionLayout::kKvCache : AttentionLayout::kVision;
    c.flash = OptionalBool(o, "flashAttention", false);
    if (c.head_dim == 0 || c.heads == 0 || c.queries == 0 || c.keys == 0) {
        ThrowType(env, where + " needs headDim, heads, queries and keys");
    }
    if (std::string why = ValidateAttentionCase(c); !why.empty()) ThrowType(env, where + ": " + why);
    return c;
}

}  // namespace

Napi::Value AttentionProbeWorker::Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = RequireObject(info, 0, "probeAttention options");
    const Napi::Value list = o.Get("cases");
    if (!list.IsArray()) ThrowType(env, "probeAttention: 'cases' must be an array");
    const Napi::Array arr = list.As<Napi::Array>();
    if (arr.Length() < 1 || arr.Length() > kMaxCases) ThrowType(env, "probeAttention: 'cases' must hold 1..64 cases");
    std::vector<AttentionCase> cases;
    for (uint32_t i = 0; i < arr.Length(); ++i) cases.push_back(ParseCase(env, arr.Get(i), i));
    const int32_t threads = static_cast<int32_t>(OptionalInt(o, "threads", 1, 1, 1024));
    const int32_t repeats = static_cast<int32_t>(OptionalInt(o, "repeats", 3, 1, 100));
    return (new AttentionProbeWorker(env, std::move(cases), threads, repeats))->QueueWithPromise();
}

AttentionProbeWorker::AttentionProbeWorker(Napi::Env env, std::vector<AttentionCase> cases, int32_t threads,
                                           int32_t repeats)
    : PromiseWorker(env, "llavaguard.probeAttention"), cases_(std::move(cases)), threads_(threads), repeats_(repeats) {}

void AttentionProbeWorker::Compute() {
    std::string error;
    for (const AttentionCase& c : cases_) {
        ms_.push_back(TimeAttention(c, threads_, repeats_, &error));
        if (!error.empty()) {
            SetError("probeAttention: " + error);
            return;
        }
    }
}

Napi::Value AttentionProbeWorker::Result(Napi::Env env) {
    Napi::Array out = Napi::Array::New(env, ms_.size());
    for (size_t i = 0; i < ms_.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, ms_[i]));
    return out;
}

}  // namespace lg
