// JS class over one llama_context with N sequence slots.
#pragma once
#include <napi.h>

#include <memory>

#include "context-resources.h"

namespace lg {

class AddonContext : public Napi::ObjectWrap<AddonContext> {
 public:
    static void Init(Napi::Env env, Napi::Object exports);
    static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ContextResources> resources);
    explicit AddonContext(const Napi::CallbackInfo& info);

 private:
    std::shared_ptr<ContextResources> Acquire(Napi::Env env) const;
    llama_seq_id RequireSequence(Napi::Env env, const Napi::Value& v) const;

    Napi::Value Info(const Napi::CallbackInfo& info);
    Napi::Value Evaluate(const Napi::CallbackInfo& info);
    Napi::Value Generate(const Napi::CallbackInfo& info);
    Napi::Value Admit(const Napi::CallbackInfo& info);
    Napi::Value EncodeImages(const Napi::CallbackInfo& info);
    Napi::Value ClearSequence(const Napi::CallbackInfo& info);
    Napi::Value CopySequence(const Napi::CallbackInfo& info);
    Napi::Value SequenceLength(const Napi::CallbackInfo& info);
    Napi::Value Close(const Napi::CallbackInfo& info);
    Napi::Value IsClosed(const Napi::CallbackInfo& info);

    std::shared_ptr<ContextResources> resources_;
};

}  // namespace lg
