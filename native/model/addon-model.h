// JS class over one loaded llama_model + mtmd_context pair.
#pragma once
#include <napi.h>

#include <memory>

#include "model-resources.h"

namespace lg {

class AddonModel : public Napi::ObjectWrap<AddonModel> {
 public:
    static void Init(Napi::Env env, Napi::Object exports);
    static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ModelResources> resources);
    explicit AddonModel(const Napi::CallbackInfo& info);

    // The resources, or a thrown JS error when the model was closed.
    std::shared_ptr<ModelResources> Acquire(Napi::Env env) const;

 private:
    Napi::Value Info(const Napi::CallbackInfo& info);
    Napi::Value Tokenize(const Napi::CallbackInfo& info);
    Napi::Value Detokenize(const Napi::CallbackInfo& info);
    Napi::Value TokenToPiece(const Napi::CallbackInfo& info);
    Napi::Value IsEog(const Napi::CallbackInfo& info);
    Napi::Value CreateContext(const Napi::CallbackInfo& info);
    Napi::Value Close(const Napi::CallbackInfo& info);
    Napi::Value IsClosed(const Napi::CallbackInfo& info);

    std::shared_ptr<ModelResources> resources_;
};

}  // namespace lg
