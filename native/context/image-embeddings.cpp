#include "image-embeddings.h"

#include <algorithm>

namespace lg {

void ImageEmbeddingsHandle::Init(Napi::Env env, Napi::Object exports) {
    Export(env, exports,
           {
               InstanceMethod<&ImageEmbeddingsHandle::Dispose>("dispose"),
               InstanceAccessor<&ImageEmbeddingsHandle::IsDisposed>("disposed"),
               InstanceAccessor<&ImageEmbeddingsHandle::NTokens>("nTokens"),
               InstanceAccessor<&ImageEmbeddingsHandle::NEmbd>("nEmbd"),
               InstanceAccessor<&ImageEmbeddingsHandle::ByteLength>("byteLength"),
               InstanceAccessor<&ImageEmbeddingsHandle::Data>("data"),
           });
}

Napi::Object ImageEmbeddingsHandle::New(Napi::Env env, std::shared_ptr<EmbeddingRows> rows) {
    auto [obj, self] = Create(env);
    self->n_tokens_ = rows->n_tokens;
    self->n_embd_ = rows->n_embd;
    self->reported_bytes_ = static_cast<int64_t>(rows->data.size() * sizeof(float));
    self->rows_ = std::move(rows);
    Napi::MemoryManagement::AdjustExternalMemory(env, self->reported_bytes_);
    return obj;
}

ImageEmbeddingsHandle::ImageEmbeddingsHandle(const Napi::CallbackInfo& info) : AddonClass(info), env_(info.Env()) {}

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

EmbeddingRowsPtr ImageEmbeddingsHandle::RowsOf(const Napi::Value& value, const std::string& where) {
    Napi::Env env = value.Env();
    if (!IsInstance(value)) throw Napi::TypeError::New(env, where + " must be an ImageEmbeddings handle");
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
