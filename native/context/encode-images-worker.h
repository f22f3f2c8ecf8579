// context.encodeImages({ images, batch?, abort? }) -> Promise<[{ embeddings: ImageEmbeddings, nTokens, encodeMs }]>:
// each image through mtmd's vision encoder and projector alone, for pipelines that arrange the features
// themselves (OneVision's anyres layout). Each image must be one encoder input (mtmd must not tile it). Up to
// `batch` consecutive images of one size go through one encoder graph (mtmd's batch API; a batch's encodeMs is
// shared evenly among its images), as many as the model allows (ModelResources::max_encode_batch). The rows stay
// native: each image's is an ImageEmbeddings handle (image-embeddings.h) a prompt takes as it is. It uses only the
// model's mtmd context, never the llama_context, so it takes no BusyLease: it runs between the steps of a running
// continuous decode loop (a new request's image is encoded while others decode).
#pragma once
#include <napi.h>

#include <vector>

#include "../sampling/abort-handle.h"
#include "../util/promise-worker.h"
#include "context-resources.h"
#include "image-embeddings.h"

namespace lg {

class EncodeImagesWorker : public PromiseWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res);

 private:
    void Compute() override;
    Napi::Value Result(Napi::Env env) override;
    static constexpr int64_t kMaxBatch = 64;
    struct Encoded {
        std::shared_ptr<EmbeddingRows> rows;
        double ms = 0;
    };
    struct Tokenized {
        ChunksPtr chunks;
        const mtmd_input_chunk* image = nullptr;  // owned by chunks
    };
    EncodeImagesWorker(Napi::Env env, std::shared_ptr<ContextResources> res);
    bool Tokenize(size_t i);
    // Encodes the images from `first` on that fit one graph; returns the index after them, 0 after an error.
    size_t EncodeFrom(size_t first);
    void KeepRows(size_t i, const float* embd, double ms);

    std::shared_ptr<ContextResources> res_;  // kept to the end: the model's mtmd context
    std::vector<BitmapPtr> bitmaps_;
    AbortFlag abort_;
    size_t batch_size_ = 1;
    std::vector<Tokenized> tokenized_;
    std::vector<Encoded> out_;
};

}  // namespace lg
