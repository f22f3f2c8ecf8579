// How many images one batched encoder graph may hold for a given mmproj, so that the graph fits clip.cpp's pool of
// tensors (a graph that does not fit aborts the process inside ggml_new_object).
#pragma once
#include <cstdint>
#include <string>

namespace lg {

// From the tower's depth (`clip.vision.block_count` in the mmproj); 1 where the file does not say. The batched llava
// graph (patches/llama.cpp/0002) takes about 14 tensors per image and layer for its image-by-image attention; the
// bound counts 16, and leaves room for each layer's shared part and the graph's fixed part. Checked by
// test/native-batched-encode.test.ts on a 28-block tower.
int32_t MaxEncodeBatch(const std::string& mmproj_path);

}  // namespace lg
