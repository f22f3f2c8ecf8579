#include "image-embeddings.h"

#include <algorithm>

#include "../util/addon-data.h"

namespace lg {

void ImageEmbeddingsHandle::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function fn = DefineClass(env, "ImageEmbeddings",
                                    {
                                        InstanceMethod<&ImageEmbeddingsHandle::Dispose>("dispose"),
                                        InstanceAccessor<&ImageEmbeddingsHandle::IsDisposed>("disposed"),
                                        InstanceAccessor<&ImageEmbeddingsHandle::NTokens>("nTokens"),
                                        InstanceAccessor<&ImageEmbeddingsHandle::NEmbd>("nEmbd"),
                                        InstanceAccessor<&ImageEmbeddingsHandle::ByteLength>("byteLength"),
                                        InstanceAccessor<&ImageEmbeddingsHandle::Data>("data"),
                                    });
    GetAddonData(env).embeddings_ctor = Napi::Persistent(fn);
    exports.Set("ImageEmbeddings", fn);
}

Napi::Object ImageEmbeddingsHandle::New(Napi::Env env, std::shared_ptr<EmbeddingRows> rows) {
    Napi::Object obj = GetAddonData(env).embeddings_ctor.New({Napi::External<void>::New(env, nullptr)});
    ImageEmbeddingsHandle* self = Unwrap(obj);
    self->n_tokens_ = rows->n_tokens;
    self->n_embd_ = rows->n_embd;
    self->reported_bytes_ = static_cast<int64_t>(rows->data.size() * sizeof(float));
    self->rows_ = std::move(rows);
    Napi::MemoryManagement::AdjustExternalMemory(env, self->reported_bytes_);
    return obj;
}

ImageEmbeddingsHandle::ImageEmbeddingsHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<ImageEmbeddingsHandle>(info), env_(info.Env()) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
        throw Napi::TypeError::New(info.Env(),
                                   "ImageEmbeddings cannot be constructed directly: encodeImages makes them");
    }
}

ImageEmbeddingsHandle::~ImageEmbeddingsHandle() {
    Release();
}

void ImageEmbeddingsHandle::Release() {
    rows_.reset();
    if (reported_bytes_ == 0) return;
    // Not the throwing wrapper: this also runs from the GC finalizer, where an exception would end the process.
    int64_t ignored = 0;
    napi_adjust_external_memory(env_, -reported_bytes_, &ignored);
    reported_bytes_ = 0;
}

bool ImageEmbeddingsHandle::Is(const Napi::Value& value) {
    return value.IsObject() && value.As<Napi::Object>().InstanceOf(GetAddonData(value.Env()).embeddings_ctor.Value());
}

EmbeddingRowsPtr ImageEmbeddingsHandle::RowsOf(const Napi::Value& value, const std::string& where) {
    Napi::Env env = value.Env();
    if (!Is(value)) throw Napi::TypeError::New(env, where + " must be an ImageEmbeddings handle");
    ImageEmbeddingsHandle* self = Unwrap(value.As<Napi::Object>());
    if (!self->rows_) throw Napi::TypeError::New(env, where + " was disposed");
    return self->rows_;
}

Napi::Value ImageEmbeddingsHandle::Dispose(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
}

Napi::Value ImageEmbeddingsHandle::IsDisposed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !rows_);
}

Napi::Value ImageEmbeddingsHandle::NTokens(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), n_tokens_);
}

Napi::Value ImageEmbeddingsHandle::NEmbd(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), n_embd_);
}

Napi::Value ImageEmbeddingsHandle::ByteLength(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(rows_ ? rows_->data.size() * sizeof(float) : 0));
}

Napi::Value ImageEmbeddingsHandle::Data(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!rows_) throw Napi::TypeError::New(env, "the image embeddings were disposed");
    Napi::Float32Array out = Napi::Float32Array::New(env, rows_->data.size());
    std::copy(rows_->data.begin(), rows_->data.end(), out.Data());
    return out;
}

}  // namespace lg
