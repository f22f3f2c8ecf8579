// JS class over one llama_context with N sequence slots.
#pragma once
#include <napi.h>

#include <memory>

#include "../util/addon-class.h"
#include "context-resources.h"

namespace lg {

class AddonContext : public ClosableAddonClass<AddonContext, ContextResources> {
 public:
    static constexpr AddonClassInfo kInfo{"AddonContext", "use model.createContext()", &AddonData::context_ctor,
                                          "context"};

    static void Init(Napi::Env env, Napi::Object exports);
    using ClosableAddonClass::ClosableAddonClass;

 private:
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
};

}  // namespace lg
