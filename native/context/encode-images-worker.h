// context.encodeImages({ images, abort? }) -> Promise<[{ embeddings: Float32Array, nTokens, encodeMs }]>: each
// image through mtmd's vision encoder and projector alone, for pipelines that arrange the features themselves
// (OneVision's anyres layout). Each image must be one encoder input (mtmd must not tile it).
#pragma once
#include <napi.h>

#include <vector>

#include "../sampling/abort-handle.h"
#include "busy-lease.h"
#include "../util/compute-worker.h"

namespace lg {

class EncodeImagesWorker : public ComputeWorker {
 public:
    static Napi::Value Start(const Napi::CallbackInfo& info, std::shared_ptr<ContextResources> res);
    void OnOK() override;
    void OnError(const Napi::Error& error) override;

 private:
    void Compute() override;
    struct Encoded {
        std::vector<float> embd;
        int32_t n_tokens = 0;
        double ms = 0;
    };
    EncodeImagesWorker(Napi::Env env, std::shared_ptr<ContextResources> res);
    bool EncodeOne(size_t i);

    BusyLease lease_;
    Napi::Promise::Deferred deferred_;
    std::vector<BitmapPtr> bitmaps_;
    AbortFlag abort_;
    std::vector<Encoded> out_;
    bool aborted_ = false;
};

}  // namespace lg
