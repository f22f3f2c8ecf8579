// A flag JS can raise while a native operation runs: checked before every token and by llama_decode itself.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>

namespace lg {

using AbortFlag = std::shared_ptr<std::atomic<bool>>;

class AbortHandle : public Napi::ObjectWrap<AbortHandle> {
 public:
    static void Init(Napi::Env env, Napi::Object exports);
    explicit AbortHandle(const Napi::CallbackInfo& info);
    // The flag of an AbortHandle passed from JS; undefined/null gives a flag nobody raises.
    static AbortFlag FromValue(const Napi::Value& value);

 private:
    Napi::Value Abort(const Napi::CallbackInfo& info);
    Napi::Value IsAborted(const Napi::CallbackInfo& info);
    AbortFlag flag_;
};

}  // namespace lg
