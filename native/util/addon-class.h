// Base of the JS classes that only the addon creates (a model, a context, image embeddings): T declares
// `static constexpr AddonClassInfo kInfo`. The constructor runs only when given the External token that Create()
// passes.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <utility>

#include "addon-data.h"

namespace lg {

struct AddonClassInfo {
    const char* name;     // the JS name, also the export's
    const char* made_by;  // how JS code gets one, for the error that `new` from JS throws
    // Its slot in AddonData (per environment: worker_threads may load the addon in several).
    Napi::FunctionReference AddonData::*constructor;
    const char* noun = nullptr;  // ClosableAddonClass: "the <noun> is closed"
};

template <typename T>
class AddonClass : public Napi::ObjectWrap<T> {
 public:
    // ObjectWrap constructs through it: public, though only Create() can pass it.
    explicit AddonClass(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info) {
        if (info.Length() != 1 || !info[0].IsExternal()) {
            throw Napi::TypeError::New(
                info.Env(), std::string(T::kInfo.name) + " cannot be constructed directly: " + T::kInfo.made_by);
        }
    }

    // True for an instance of T's constructor in value's environment.
    static bool IsInstance(const Napi::Value& value) {
        return value.IsObject() &&
               value.As<Napi::Object>().InstanceOf((GetAddonData(value.Env()).*T::kInfo.constructor).Value());
    }

 protected:
    using Properties = std::initializer_list<Napi::ClassPropertyDescriptor<T>>;

    static void Export(Napi::Env env, Napi::Object exports, const Properties& properties) {
        Napi::Function fn = Napi::ObjectWrap<T>::DefineClass(env, T::kInfo.name, properties);
        GetAddonData(env).*T::kInfo.constructor = Napi::Persistent(fn);
        exports.Set(T::kInfo.name, fn);
    }

    // A new JS instance and the native object behind it.
    static std::pair<Napi::Object, T*> Create(Napi::Env env) {
        Napi::Object obj = (GetAddonData(env).*T::kInfo.constructor).New({Napi::External<void>::New(env, nullptr)});
        return {obj, Napi::ObjectWrap<T>::Unwrap(obj)};
    }
};

// An AddonClass over shared native resources that close() lets go of (running workers keep their own reference,
// so memory is freed when the last one lets go).
template <typename T, typename Resources>
class ClosableAddonClass : public AddonClass<T> {
 public:
    using AddonClass<T>::AddonClass;

    static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<Resources> resources) {
        auto [obj, self] = AddonClass<T>::Create(env);
        self->resources_ = std::move(resources);
        return obj;
    }

    // The resources, or a thrown JS error when closed.
    std::shared_ptr<Resources> Acquire(Napi::Env env) const {
        if (!resources_) throw Napi::Error::New(env, std::string("the ") + T::kInfo.noun + " is closed");
        return resources_;
    }

 protected:
    Napi::Value IsClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !resources_); }

    std::shared_ptr<Resources> resources_;
};

}  // namespace lg
