// quantize({ input, output, type, threads }) -> Promise: llama.cpp's own quantizer, off the event loop.
#pragma once
#include <napi.h>

#include "../util/promise-worker.h"

#include <string>

#include "llama.h"

namespace lg {

class QuantizeWorker : public PromiseWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info);

 private:
    void Compute() override;
    Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
    QuantizeWorker(Napi::Env env, std::string input, std::string output, llama_ftype ftype, int32_t threads);
    std::string input_;
    std::string output_;
    llama_ftype ftype_;
    int32_t threads_;
};

}  // namespace lg
