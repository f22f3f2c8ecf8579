#include "abort-handle.h"

#include "../util/addon-data.h"

namespace lg {

void AbortHandle::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function fn = DefineClass(env, "AbortHandle",
                                    {
                                        InstanceMethod<&AbortHandle::Abort>("abort"),
                                        InstanceAccessor<&AbortHandle::IsAborted>("aborted"),
                                    });
    GetAddonData(env).abort_ctor = Napi::Persistent(fn);
    exports.Set("AbortHandle", fn);
}

AbortHandle::AbortHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<AbortHandle>(info), flag_(std::make_shared<std::atomic<bool>>(false)) {}

AbortFlag AbortHandle::FromValue(const Napi::Value& value) {
    if (value.IsUndefined() || value.IsNull()) return std::make_shared<std::atomic<bool>>(false);
    Napi::Env env = value.Env();
    if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(GetAddonData(env).abort_ctor.Value())) {
        throw Napi::TypeError::New(env, "option 'abort' must be an AbortHandle");
    }
    return AbortHandle::Unwrap(value.As<Napi::Object>())->flag_;
}

Napi::Value AbortHandle::Abort(const Napi::CallbackInfo& info) {
    flag_->store(true);
    return info.Env().Undefined();
}

Napi::Value AbortHandle::IsAborted(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), flag_->load());
}

}  // namespace lg
