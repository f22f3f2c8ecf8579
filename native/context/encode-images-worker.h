// context.encodeImages({ images, abort? }) -> Promise<[{ embeddings: ImageEmbeddings, nTokens, encodeMs }]>: each
// image through mtmd's vision encoder and projector alone, for pipelines that arrange the features themselves
// (OneVision's anyres layout). Each image must be one encoder input (mtmd must not tile it). The rows stay
// native: each image's is an ImageEmbeddings handle (image-embeddings.h) a prompt takes as it is.
#pragma once
#include <napi.h>

#include <vector>

#include "../sampling/abort-handle.h"
#include "context-worker.h"
#include "image-embeddings.h"

namespace lg {

class EncodeImagesWorker : public ContextWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res);

 private:
    void Compute() override;
    Napi::Value Result(Napi::Env env) override;
    struct Encoded {
        std::shared_ptr<EmbeddingRows> rows;
        double ms = 0;
    };
    EncodeImagesWorker(Napi::Env env, std::shared_ptr<ContextResources> res);
    bool EncodeOne(size_t i);

    std::vector<BitmapPtr> bitmaps_;
    AbortFlag abort_;
    std::vector<Encoded> out_;
};

}  // namespace lg
