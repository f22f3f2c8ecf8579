#include "max-encode-batch.h"

#include <algorithm>

#include "gguf.h"

namespace lg {

namespace {
constexpr int64_t kClipGraphTensors = 8192;  // clip.cpp's max_nodes: its graph pool holds that many tensors
constexpr int64_t kFixedTensors = 1024;      // patch embedding, positions, projector, outputs
constexpr int64_t kTensorsPerLayer = 64;     // norms, projections, ffn and residuals over the whole batch
constexpr int64_t kTensorsPerImageLayer = 16;
}  // namespace

int32_t MaxEncodeBatch(const std::string& mmproj_path) {
    gguf_init_params params{/*no_alloc =*/true, /*ctx =*/nullptr};
    gguf_context* gguf = gguf_init_from_file(mmproj_path.c_str(), params);
    if (gguf == nullptr) return 1;
    int64_t layers = 0;
    const int64_t key = gguf_find_key(gguf, "clip.vision.block_count");
    if (key >= 0 && gguf_get_kv_type(gguf, key) == GGUF_TYPE_UINT32) layers = gguf_get_val_u32(gguf, key);
    gguf_free(gguf);
    if (layers <= 0) return 1;
    const int64_t fits =
        (kClipGraphTensors - kFixedTensors - layers * kTensorsPerLayer) / (layers * kTensorsPerImageLayer);
    return static_cast<int32_t>(std::clamp<int64_t>(fits, 1, INT32_MAX));
}

}  // namespace lg
