// What a loaded model owns. Shared (shared_ptr) by the JS model object, its contexts and running workers,
// so closing the model while a context still uses it cannot free memory under that context.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../sampling/first-byte-index.h"
#include "../util/handles.h"

namespace lg {

struct ModelResources {
    ModelPtr model;  // declared first: destroyed last, after mtmd which points into it
    MtmdPtr mtmd;
    const llama_vocab* vocab = nullptr;
    std::shared_ptr<const FirstByteIndex> tokens_by_first_byte;  // may be null
    std::string model_path;
    std::string mmproj_path;
    std::vector<std::string> devices;        // the ggml devices asked for (empty: llama.cpp's choice or CPU)
    std::vector<std::string> placement_log;  // llama.cpp's log lines saying where layers and the tower went
    // The most images one encoder graph may hold: clip builds each graph in a fixed pool of tensors, and a batch
    // past it aborts inside ggml (max-encode-batch.h). 1 with the tower on a GPU: a batched graph has not run on
    // a real GPU, and on Debian 12's Mesa (lavapipe 22.3) one run after a single-image graph crashes the process,
    // a use-after-free inside the driver (BENCHMARKS.md, "Batched tile encode").
    int32_t max_encode_batch = 1;
};

}  // namespace lg
