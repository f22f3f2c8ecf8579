#include "encode-images-worker.h"

#include <chrono>
#include <cstring>

#include "../util/js-args.h"
#include "../util/log-capture.h"
#include "prompt-input.h"

namespace lg {

Napi::Value EncodeImagesWorker::Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res) {
    Napi::Env env = info.Env();
    Napi::Object req = RequireObject(info, 0, "encodeImages request");
    if (!res->model->mtmd)
        throw Napi::Error::New(env, "this model was loaded without an mmproj: it cannot take images");
    Napi::Value images = req.Get("images");
    if (!images.IsArray()) ThrowType(env, "option 'images' must be an array");
    auto arr = images.As<Napi::Array>();
    if (arr.Length() == 0) ThrowRange(env, "option 'images' is empty");
    return FillThenQueue(new EncodeImagesWorker(env, std::move(res)), [&](EncodeImagesWorker& w) {
        for (uint32_t i = 0; i < arr.Length(); i++) {
            w.bitmaps_.push_back(ParseImage(arr.Get(i), "images[" + std::to_string(i) + "]"));
        }
        w.abort_ = AbortHandle::FromValue(req.Get("abort"));
    });
}

EncodeImagesWorker::EncodeImagesWorker(Napi::Env env, std::shared_ptr<ContextResources> res)
    : PromiseWorker(env, "llavaguard.encodeImages", WorkerThread::kComputeBetweenSteps), res_(std::move(res)) {
    if (res_->closing.load()) throw Napi::Error::New(env, "the context is closed");
}

bool EncodeImagesWorker::EncodeOne(size_t i) {
    mtmd_context* mctx = res_->model->mtmd.get();
    const std::string where = "images[" + std::to_string(i) + "]";
    ChunksPtr chunks(mtmd_input_chunks_init());
    const char* marker = mtmd_default_marker();
    mtmd_input_text text{marker, std::strlen(marker), false, true};
    const mtmd_bitmap* bitmap = bitmaps_[i].get();
    if (mtmd_tokenize(mctx, chunks.get(), &text, &bitmap, 1) != 0) {
        SetError(WithLogDetail(where + ": image preprocessing failed"));
        return false;
    }
    const mtmd_input_chunk* image = nullptr;
    size_t n_images = 0;
    for (size_t c = 0; c < mtmd_input_chunks_size(chunks.get()); c++) {
        const mtmd_input_chunk* chunk = mtmd_input_chunks_get(chunks.get(), c);
        if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
            image = chunk;
            n_images++;
        }
    }
    if (n_images != 1) {
        SetError(where + " (" + std::to_string(mtmd_bitmap_get_nx(bitmap)) + "x" +
                 std::to_string(mtmd_bitmap_get_ny(bitmap)) + ") became " + std::to_string(n_images) +
                 " encoder inputs: encodeImages takes images no larger than the encoder's input size");
        return false;
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (mtmd_encode_chunk(mctx, image) != 0) {
        SetError(WithLogDetail(where + ": image encoding failed"));
        return false;
    }
    Encoded& e = out_[i];
    e.rows = std::make_shared<EmbeddingRows>();
    e.rows->n_tokens = static_cast<int32_t>(mtmd_input_chunk_get_n_tokens(image));
    e.rows->n_embd = llama_model_n_embd_inp(res_->model->model.get());
    const size_t n = static_cast<size_t>(e.rows->n_tokens) * static_cast<size_t>(e.rows->n_embd);
    const float* embd = mtmd_get_output_embd(mctx);
    e.rows->data.assign(embd, embd + n);
    e.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return true;
}

void EncodeImagesWorker::Compute() {
    BeginLogScope();
    out_.resize(bitmaps_.size());
    for (size_t i = 0; i < bitmaps_.size(); i++) {
        if (abort_->load() || res_->closing.load()) {
            SetAbortError();
            return;
        }
        if (!EncodeOne(i)) return;
    }
}

Napi::Value EncodeImagesWorker::Result(Napi::Env env) {
    Napi::Array result = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); i++) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("nTokens", out_[i].rows->n_tokens);
        o.Set("embeddings", ImageEmbeddingsHandle::New(env, std::move(out_[i].rows)));
        o.Set("encodeMs", out_[i].ms);
        result.Set(static_cast<uint32_t>(i), o);
    }
    return result;
}

}  // namespace lg
