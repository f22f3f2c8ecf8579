// JS class over one loaded llama_model + mtmd_context pair.
#pragma once
#include <napi.h>

#include <memory>

#include "../util/addon-class.h"
#include "model-resources.h"

namespace lg {

class AddonModel : public ClosableAddonClass<AddonModel, ModelResources> {
 public:
    static constexpr AddonClassInfo kInfo{"AddonModel", "use loadModel()", &AddonData::model_ctor, "model"};

    static void Init(Napi::Env env, Napi::Object exports);
    using ClosableAddonClass::ClosableAddonClass;

 private:
    Napi::Value Info(const Napi::CallbackInfo& info);
    Napi::Value Tokenize(const Napi::CallbackInfo& info);
    Napi::Value Detokenize(const Napi::CallbackInfo& info);
    Napi::Value TokenToPiece(const Napi::CallbackInfo& info);
    Napi::Value IsEog(const Napi::CallbackInfo& info);
    Napi::Value CreateContext(const Napi::CallbackInfo& info);
    Napi::Value Close(const Napi::CallbackInfo& info);
};

}  // namespace lg
