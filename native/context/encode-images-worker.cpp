#include "encode-images-worker.h"

#include <algorithm>
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
        w.batch_size_ = static_cast<size_t>(OptionalInt(req, "batch", 1, 1, kMaxBatch));
        w.batch_size_ = std::min(w.batch_size_, static_cast<size_t>(w.res_->model->max_encode_batch));
    });
}

EncodeImagesWorker::EncodeImagesWorker(Napi::Env env, std::shared_ptr<ContextResources> res)
    : PromiseWorker(env, "llavaguard.encodeImages", WorkerThread::kComputeBetweenSteps), res_(std::move(res)) {
    if (res_->closing.load()) throw Napi::Error::New(env, "the context is closed");
}

bool EncodeImagesWorker::Tokenize(size_t i) {
    mtmd_context* mctx = res_->model->mtmd.get();
    const std::string where = "images[" + std::to_string(i) + "]";
    Tokenized& t = tokenized_[i];
    t.chunks.reset(mtmd_input_chunks_init());
    const char* marker = mtmd_default_marker();
    mtmd_input_text text{marker, std::strlen(marker), false, true};
    const mtmd_bitmap* bitmap = bitmaps_[i].get();
    if (mtmd_tokenize(mctx, t.chunks.get(), &text, &bitmap, 1) != 0) {
        SetError(WithLogDetail(where + ": image preprocessing failed"));
        return false;
    }
    size_t n_images = 0;
    for (size_t c = 0; c < mtmd_input_chunks_size(t.chunks.get()); c++) {
        const mtmd_input_chunk* chunk = mtmd_input_chunks_get(t.chunks.get(), c);
        if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
            t.image = chunk;
            n_images++;
        }
    }
    if (n_images != 1) {
        SetError(where + " (" + std::to_string(mtmd_bitmap_get_nx(bitmap)) + "x" +
                 std::to_string(mtmd_bitmap_get_ny(bitmap)) + ") became " + std::to_string(n_images) +
                 " encoder inputs: encodeImages takes images no larger than the encoder's input size");
        return false;
    }
    return true;
}

void EncodeImagesWorker::KeepRows(size_t i, const float* embd, double ms) {
    Encoded& e = out_[i];
    e.rows = std::make_shared<EmbeddingRows>();
    e.rows->n_tokens = static_cast<int32_t>(mtmd_input_chunk_get_n_tokens(tokenized_[i].image));
    e.rows->n_embd = llama_model_n_embd_inp(res_->model->model.get());
    const size_t n = static_cast<size_t>(e.rows->n_tokens) * static_cast<size_t>(e.rows->n_embd);
    e.rows->data.assign(embd, embd + n);
    e.ms = ms;
}

size_t EncodeImagesWorker::EncodeFrom(size_t first) {
    mtmd_context* mctx = res_->model->mtmd.get();
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed_ms = [&] {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    // mtmd refuses a chunk that cannot join (another size, a projector without batching, too many tokens):
    // the group ends there and the next one starts with it.
    MtmdBatchPtr batch(mtmd_batch_init(mctx));
    size_t end = first;
    while (end < tokenized_.size() && end - first < batch_size_ &&
           mtmd_batch_add_chunk(batch.get(), tokenized_[end].image) == 0) {
        end++;
    }
    const std::string where = end - first > 1 ? "images[" + std::to_string(first) + ".." + std::to_string(end - 1) + "]"
                                              : "images[" + std::to_string(first) + "]";
    if (end - first <= 1) {
        if (mtmd_encode_chunk(mctx, tokenized_[first].image) != 0) {
            SetError(WithLogDetail(where + ": image encoding failed"));
            return 0;
        }
        KeepRows(first, mtmd_get_output_embd(mctx), elapsed_ms());
        return first + 1;
    }
    if (mtmd_batch_encode(batch.get()) != 0) {
        SetError(WithLogDetail(where + ": batched image encoding failed"));
        return 0;
    }
    const double share = elapsed_ms() / static_cast<double>(end - first);
    for (size_t i = first; i < end; i++) {
        const float* embd = mtmd_batch_get_output_embd(batch.get(), tokenized_[i].image);
        if (embd == nullptr) {
            SetError("images[" + std::to_string(i) + "]: the batched encode returned no rows for it");
            return 0;
        }
        KeepRows(i, embd, share);
    }
    return end;
}

void EncodeImagesWorker::Compute() {
    BeginLogScope();
    out_.resize(bitmaps_.size());
    tokenized_.resize(bitmaps_.size());
    for (size_t i = 0; i < bitmaps_.size(); i++) {
        if (!Tokenize(i)) return;
    }
    for (size_t next = 0; next < bitmaps_.size();) {
        if (abort_->load() || res_->closing.load()) {
            SetAbortError();
            return;
        }
        next = EncodeFrom(next);
        if (next == 0) return;
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
