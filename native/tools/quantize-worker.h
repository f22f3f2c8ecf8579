// quantize({ input, output, type, threads }) -> Promise: llama.cpp's own quantizer, off the event loop.
#pragma once
#include <napi.h>

#include <string>

#include "llama.h"

namespace lg {

class QuantizeWorker : public Napi::AsyncWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info);
    void Execute() override;
    void OnOK() override;
    void OnError(const Napi::Error& error) override;

 private:
    QuantizeWorker(Napi::Env env, std::string input, std::string output, llama_ftype ftype, int32_t threads);
    std::string input_;
    std::string output_;
    llama_ftype ftype_;
    int32_t threads_;
    Napi::Promise::Deferred deferred_;
};

}  // namespace lg
