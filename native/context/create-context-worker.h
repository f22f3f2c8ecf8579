// Creates a llama_context (allocates the KV cache: slow on GPUs) off the event loop.
#pragma once
#include <napi.h>

#include <memory>

#include "../model/model-resources.h"
#include "context-resources.h"
#include "../util/promise-worker.h"

namespace lg {

class CreateContextWorker : public PromiseWorker {
 public:
    // model.createContext(options) -> Promise<AddonContext>
    static Napi::Value Start(const Napi::CallbackInfo& info, std::shared_ptr<ModelResources> model,
                             Napi::Value model_obj);

 private:
    void Compute() override;
    Napi::Value Result(Napi::Env env) override;
    CreateContextWorker(Napi::Env env, std::shared_ptr<ModelResources> model, llama_context_params params);
    std::shared_ptr<ContextResources> res_;
    llama_context_params params_;
};

}  // namespace lg
