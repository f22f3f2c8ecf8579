// An image's embeddings kept in native memory (as mtmd keeps its chunks): encodeImages returns one handle per
// image, packOneVisionFeatures arranges handles into a new one, and a prompt takes a handle where it takes
// embeddings, so the rows never cross into JS. JS sees an opaque object with dispose(); its size is reported to
// V8 (AdjustExternalMemory) so that garbage collection accounts for it when nobody disposes it.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "../util/addon-class.h"

namespace lg {

// n_tokens rows of n_embd floats, token-major. Immutable once shared: a prefill may read it while JS disposes
// its handle (the rows then live until the prefill ends).
struct EmbeddingRows {
    std::vector<float> data;
    int32_t n_tokens = 0;
    int32_t n_embd = 0;
};
using EmbeddingRowsPtr = std::shared_ptr<const EmbeddingRows>;

class ImageEmbeddingsHandle : public AddonClass<ImageEmbeddingsHandle> {
 public:
    static constexpr AddonClassInfo kInfo{"ImageEmbeddings", "encodeImages makes them", &AddonData::embeddings_ctor};

    static void Init(Napi::Env env, Napi::Object exports);
    static Napi::Object New(Napi::Env env, std::shared_ptr<EmbeddingRows> rows);
    // The rows of a live handle; a TypeError naming `where` for anything else, including a disposed handle.
    static EmbeddingRowsPtr RowsOf(const Napi::Value& value, const std::string& where);

    explicit ImageEmbeddingsHandle(const Napi::CallbackInfo& info);
    ~ImageEmbeddingsHandle() override;

 private:
    void Release();
    Napi::Value Dispose(const Napi::CallbackInfo& info);
    Napi::Value IsDisposed(const Napi::CallbackInfo& info);
    Napi::Value NTokens(const Napi::CallbackInfo& info);
    Napi::Value NEmbd(const Napi::CallbackInfo& info);
    Napi::Value ByteLength(const Napi::CallbackInfo& info);
    // A copy as a Float32Array, for callers that want the values themselves (the deprecated Float32Array routes).
    Napi::Value Data(const Napi::CallbackInfo& info);

    napi_env env_;
    EmbeddingRowsPtr rows_;
    int32_t n_tokens_ = 0;
    int32_t n_embd_ = 0;
    int64_t reported_bytes_ = 0;
};

}  // namespace lg
