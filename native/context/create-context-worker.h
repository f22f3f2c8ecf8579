// Creates a llama_context (allocates the KV cache: slow on GPUs) off the event loop.
#pragma once
#include <napi.h>

#include <memory>

#include "../model/model-resources.h"
#include "context-resources.h"
#include "../util/compute-worker.h"

namespace lg {

class CreateContextWorker : public ComputeWorker {
 public:
    // model.createContext(options) -> Promise<AddonContext>
    static Napi::Value Start(const Napi::CallbackInfo& info, std::shared_ptr<ModelResources> model,
                             Napi::Value model_obj);
    void OnOK() override;
    void OnError(const Napi::Error& error) override;

 private:
    void Compute() override;
    CreateContextWorker(Napi::Env env, std::shared_ptr<ModelResources> model, llama_context_params params);
    std::shared_ptr<ContextResources> res_;
    llama_context_params params_;
    Napi::Promise::Deferred deferred_;
};

}  // namespace lg
