#include "pack-features.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../util/js-args.h"
#include "image-embeddings.h"

// The bilinear weights are rounded to float32 and the sums taken in double, as the JS reference does: a fused
// multiply-add would round differently.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace lg {
namespace {

struct Axis {
    std::vector<int32_t> i0, i1;
    std::vector<float> l0, l1;
};

// torch's bilinear source indices for align_corners=False (half-pixel centres, clamped at 0).
Axis BilinearAxis(int32_t in_size, int32_t out_size) {
    Axis a;
    a.i0.resize(out_size);
    a.i1.resize(out_size);
    a.l0.resize(out_size);
    a.l1.resize(out_size);
    const float scale = static_cast<float>(static_cast<double>(in_size) / static_cast<double>(out_size));
    for (int32_t d = 0; d < out_size; d++) {
        float real = static_cast<float>(static_cast<double>(scale) * (d + 0.5) - 0.5);
        if (real < 0) real = 0;
        const auto i = static_cast<int32_t>(std::trunc(real));
        const float lambda =
            std::min(std::max(static_cast<float>(static_cast<double>(real) - static_cast<double>(i)), 0.0f), 1.0f);
        a.i0[d] = i;
        a.i1[d] = i + (i < in_size - 1 ? 1 : 0);
        a.l1[d] = lambda;
        a.l0[d] = static_cast<float>(1.0 - static_cast<double>(lambda));
    }
    return a;
}

struct Region {
    int32_t top = 0, left = 0, h = 0, w = 0;
};

Region ReadRegion(const Napi::Object& req, const char* key, bool with_origin) {
    Napi::Env env = req.Env();
    Napi::Value v = req.Get(key);
    if (!v.IsObject()) ThrowType(env, std::string("option '") + key + "' must be an object");
    Napi::Object o = v.As<Napi::Object>();
    Region r;
    if (with_origin) {
        r.top = static_cast<int32_t>(OptionalInt(o, "top", -1, -1, 1 << 20));
        r.left = static_cast<int32_t>(OptionalInt(o, "left", -1, -1, 1 << 20));
        if (r.top < 0 || r.left < 0) ThrowType(env, std::string(key) + ".top and .left are required");
    }
    r.h = static_cast<int32_t>(OptionalInt(o, "h", -1, -1, 1 << 20));
    r.w = static_cast<int32_t>(OptionalInt(o, "w", -1, -1, 1 << 20));
    // An unpadded map may be empty (a picture a few pixels wide): only its newlines remain.
    if (r.h < 0 || r.w < 0 || (!with_origin && (r.h < 1 || r.w < 1))) ThrowRange(env, std::string(key) + " is empty");
    return r;
}

}  // namespace

Napi::Value PackOneVisionFeatures(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object req = RequireObject(info, 0, "packOneVisionFeatures request");
    const EmbeddingRowsPtr overview = ImageEmbeddingsHandle::RowsOf(req.Get("overview"), "overview");
    const int32_t dim = overview->n_embd;
    const auto side = static_cast<int32_t>(OptionalInt(req, "featuresPerSide", 0, 0, 1 << 12));
    const auto cols = static_cast<int32_t>(OptionalInt(req, "gridCols", 0, 0, 1 << 10));
    if (side < 1 || cols < 1) ThrowRange(env, "featuresPerSide and gridCols must be at least 1");
    const int32_t per_tile = side * side;
    if (overview->n_tokens != per_tile) {
        ThrowRange(env, "overview has " + std::to_string(overview->n_tokens) + " tokens, expected " +
                            std::to_string(per_tile));
    }
    Napi::Value tiles_v = req.Get("tiles");
    if (!tiles_v.IsArray()) ThrowType(env, "option 'tiles' must be an array of ImageEmbeddings");
    auto tiles_arr = tiles_v.As<Napi::Array>();
    if (tiles_arr.Length() == 0 || tiles_arr.Length() % cols != 0) {
        ThrowRange(env, std::to_string(tiles_arr.Length()) + " tiles do not fill a grid of " + std::to_string(cols) +
                            " columns");
    }
    std::vector<EmbeddingRowsPtr> tiles;
    for (uint32_t t = 0; t < tiles_arr.Length(); t++) {
        const std::string where = "tiles[" + std::to_string(t) + "]";
        tiles.push_back(ImageEmbeddingsHandle::RowsOf(tiles_arr.Get(t), where));
        if (tiles.back()->n_tokens != per_tile || tiles.back()->n_embd != dim) {
            ThrowRange(env, where + " is " + std::to_string(tiles.back()->n_tokens) + "x" +
                                std::to_string(tiles.back()->n_embd) + ", expected " + std::to_string(per_tile) + "x" +
                                std::to_string(dim));
        }
    }
    const int32_t rows = static_cast<int32_t>(tiles.size()) / cols;
    Napi::Value newline_v = req.Get("newline");
    if (!newline_v.IsTypedArray() || newline_v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        ThrowType(env, "option 'newline' must be a Float32Array");
    }
    auto newline = newline_v.As<Napi::Float32Array>();
    if (newline.ElementLength() != static_cast<size_t>(dim)) {
        ThrowRange(env, "newline has " + std::to_string(newline.ElementLength()) + " values, the embeddings " +
                            std::to_string(dim));
    }
    const Region un = ReadRegion(req, "unpadded", true);
    if (un.top + un.h > rows * side || un.left + un.w > cols * side) {
        ThrowRange(env, "the unpadded region lies outside the " + std::to_string(rows) + "x" + std::to_string(cols) +
                            " tile grid");
    }
    const bool down = !req.Get("downsampled").IsUndefined() && !req.Get("downsampled").IsNull();
    const Region out_shape = down ? ReadRegion(req, "downsampled", false) : un;
    if (down && (un.h < 1 || un.w < 1)) ThrowRange(env, "an empty unpadded region cannot be downsampled");
    const int32_t fh = out_shape.h;
    const int32_t fw = out_shape.w;
    const int64_t total = per_tile + static_cast<int64_t>(fh) * (fw + 1);
    if (OptionalInt(req, "totalTokens", total, 0, INT32_MAX) != total) {
        ThrowRange(env, "totalTokens disagrees with the layout (" + std::to_string(total) + ")");
    }

    const size_t d = static_cast<size_t>(dim);
    // A feature of the unpadded map, read in place from its tile.
    auto at = [&](int32_t y, int32_t x) -> const float* {
        const int32_t gy = un.top + y;
        const int32_t gx = un.left + x;
        const EmbeddingRows& tile = *tiles[static_cast<size_t>((gy / side) * cols + gx / side)];
        return tile.data.data() + static_cast<size_t>((gy % side) * side + gx % side) * d;
    };
    auto rows_out = std::make_shared<EmbeddingRows>();
    rows_out->n_tokens = static_cast<int32_t>(total);
    rows_out->n_embd = dim;
    rows_out->data.resize(static_cast<size_t>(total) * d);
    float* o = rows_out->data.data();
    std::memcpy(o, overview->data.data(), sizeof(float) * static_cast<size_t>(per_tile) * d);
    o += static_cast<size_t>(per_tile) * d;
    const Axis H = down ? BilinearAxis(un.h, fh) : Axis{};
    const Axis W = down ? BilinearAxis(un.w, fw) : Axis{};
    for (int32_t y = 0; y < fh; y++) {
        for (int32_t x = 0; x < fw; x++, o += d) {
            if (!down) {
                std::memcpy(o, at(y, x), sizeof(float) * d);
                continue;
            }
            const double h0 = H.l0[y], h1 = H.l1[y], w0 = W.l0[x], w1 = W.l1[x];
            const float* p00 = at(H.i0[y], W.i0[x]);
            const float* p01 = at(H.i0[y], W.i1[x]);
            const float* p10 = at(H.i1[y], W.i0[x]);
            const float* p11 = at(H.i1[y], W.i1[x]);
            for (size_t k = 0; k < d; k++) {
                const double top = w0 * static_cast<double>(p00[k]) + w1 * static_cast<double>(p01[k]);
                const double bottom = w0 * static_cast<double>(p10[k]) + w1 * static_cast<double>(p11[k]);
                o[k] = static_cast<float>(h0 * top + h1 * bottom);
            }
        }
        std::memcpy(o, newline.Data(), sizeof(float) * d);
        o += d;
    }
    return ImageEmbeddingsHandle::New(env, std::move(rows_out));
}

}  // namespace lg
