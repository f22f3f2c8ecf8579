#include "attention-probe.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml.h"
#include "../util/free-with.h"

namespace lg {
namespace {

// Largest intermediate we let a probe allocate (the F32 KQ matrix without flash attention).
constexpr double kMaxProbeBytes = 1024.0 * 1024 * 1024;

struct Inputs {
    ggml_tensor* q = nullptr;
    ggml_tensor* k = nullptr;
    ggml_tensor* v = nullptr;
    ggml_tensor* mask = nullptr;
};

// llm_graph_context::build_attn_mha over a KV-cache view (V transposed without flash attention, as the cache stores
// it).
ggml_tensor* BuildTextAttention(ggml_context* ctx, const AttentionCase& c, Inputs& in) {
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    in.q = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, c.head_dim, c.heads, c.queries);
    in.k = ggml_new_tensor_3d(ctx, GGML_TYPE_F16, c.head_dim, c.kv_heads, c.keys);
    ggml_tensor* q = ggml_permute(ctx, in.q, 0, 2, 1, 3);
    ggml_tensor* k = ggml_permute(ctx, in.k, 0, 2, 1, 3);
    if (c.flash) {
        in.v = ggml_new_tensor_3d(ctx, GGML_TYPE_F16, c.head_dim, c.kv_heads, c.keys);
        in.mask = ggml_new_tensor_2d(ctx, GGML_TYPE_F16, c.keys, c.queries);
        ggml_tensor* v = ggml_permute(ctx, in.v, 0, 2, 1, 3);
        ggml_tensor* cur = ggml_flash_attn_ext(ctx, q, k, v, in.mask, scale, 0.0f, 0.0f);
        ggml_flash_attn_ext_set_prec(cur, GGML_PREC_F32);
        return ggml_reshape_2d(ctx, cur, cur->ne[0] * cur->ne[1], cur->ne[2] * cur->ne[3]);
    }
    in.v = ggml_new_tensor_3d(ctx, GGML_TYPE_F16, c.keys, c.kv_heads, c.head_dim);
    in.mask = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, c.keys, c.queries);
    ggml_tensor* v = ggml_permute(ctx, in.v, 0, 2, 1, 3);
    ggml_tensor* kq = ggml_mul_mat(ctx, k, q);
    ggml_mul_mat_set_prec(kq, GGML_PREC_F32);
    kq = ggml_soft_max_ext(ctx, kq, in.mask, scale, 0.0f);
    ggml_tensor* kqv = ggml_mul_mat(ctx, v, kq);
    ggml_tensor* cur = ggml_permute(ctx, kqv, 0, 2, 1, 3);
    return ggml_cont_2d(ctx, cur, cur->ne[0] * cur->ne[1], cur->ne[2] * cur->ne[3]);
}

// clip.cpp's build_attn: F32 activations, no mask; flash attention casts K and V to F16 first.
ggml_tensor* BuildVisionAttention(ggml_context* ctx, const AttentionCase& c, Inputs& in) {
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    in.q = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, c.head_dim, c.heads, c.queries);
    in.k = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, c.head_dim, c.heads, c.keys);
    in.v = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, c.head_dim, c.heads, c.keys);
    ggml_tensor* q = ggml_permute(ctx, in.q, 0, 2, 1, 3);
    ggml_tensor* k = ggml_permute(ctx, in.k, 0, 2, 1, 3);
    if (c.flash) {
        ggml_tensor* v = ggml_permute(ctx, in.v, 0, 2, 1, 3);
        k = ggml_cast(ctx, k, GGML_TYPE_F16);
        v = ggml_cast(ctx, v, GGML_TYPE_F16);
        ggml_tensor* cur = ggml_flash_attn_ext(ctx, q, k, v, nullptr, scale, 0.0f, 0.0f);
        ggml_flash_attn_ext_set_prec(cur, GGML_PREC_F32);
        return ggml_reshape_2d(ctx, cur, cur->ne[0] * cur->ne[1], cur->ne[2] * cur->ne[3]);
    }
    ggml_tensor* v = ggml_cont(ctx, ggml_permute(ctx, in.v, 1, 2, 0, 3));
    ggml_tensor* kq = ggml_soft_max_ext(ctx, ggml_mul_mat(ctx, k, q), nullptr, scale, 0.0f);
    ggml_tensor* cur = ggml_permute(ctx, ggml_mul_mat(ctx, v, kq), 0, 2, 1, 3);
    return ggml_cont_2d(ctx, cur, cur->ne[0] * cur->ne[1], cur->ne[2] * cur->ne[3]);
}

// Small deterministic values: uninitialised memory could hold NaNs or denormals and distort the timing.
void FillInput(ggml_tensor* t, uint32_t seed) {
    const int64_t n = ggml_nelements(t);
    std::vector<float> f(static_cast<size_t>(n));
    uint32_t s = seed * 2654435761u + 1;
    for (auto& x : f) {
        s = s * 1664525u + 1013904223u;
        x = (static_cast<float>(s >> 8) / 16777216.0f - 0.5f) * 0.5f;
    }
    if (t->type == GGML_TYPE_F32) {
        ggml_backend_tensor_set(t, f.data(), 0, ggml_nbytes(t));
        return;
    }
    std::vector<ggml_fp16_t> h(f.size());
    ggml_fp32_to_fp16_row(f.data(), h.data(), n);
    ggml_backend_tensor_set(t, h.data(), 0, ggml_nbytes(t));
}

// Causal: query i sits at position keys - queries + i and sees keys up to there.
void FillCausalMask(ggml_tensor* m, const AttentionCase& c) {
    std::vector<float> f(static_cast<size_t>(c.keys) * c.queries);
    for (int32_t i = 0; i < c.queries; ++i) {
        const int32_t last = c.keys - c.queries + i;
        for (int32_t j = 0; j < c.keys; ++j) f[static_cast<size_t>(i) * c.keys + j] = j <= last ? 0.0f : -INFINITY;
    }
    if (m->type == GGML_TYPE_F32) {
        ggml_backend_tensor_set(m, f.data(), 0, ggml_nbytes(m));
        return;
    }
    std::vector<ggml_fp16_t> h(f.size());
    ggml_fp32_to_fp16_row(f.data(), h.data(), static_cast<int64_t>(f.size()));
    ggml_backend_tensor_set(m, h.data(), 0, ggml_nbytes(m));
}

void SetThreads(ggml_backend_t backend, int32_t threads) {
    ggml_backend_dev_t dev = ggml_backend_get_device(backend);
    ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : nullptr;
    auto* set = reg ? reinterpret_cast<ggml_backend_set_n_threads_t>(
                          ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads"))
                    : nullptr;
    if (set) set(backend, threads);
}

}  // namespace

std::string ValidateAttentionCase(const AttentionCase& c) {
    if (c.head_dim < 1 || c.head_dim > 1024) return "headDim must be 1..1024";
    if (c.heads < 1 || c.heads > 1024) return "heads must be 1..1024";
    if (c.kv_heads < 1 || c.heads % c.kv_heads != 0) return "kvHeads must divide heads";
    if (c.layout == AttentionLayout::kVision && c.kv_heads != c.heads) return "the vision encoder has kvHeads == heads";
    if (c.queries < 1 || c.keys < 1 || c.queries > c.keys) return "need 1 <= queries <= keys";
    if (c.layout == AttentionLayout::kVision && c.queries != c.keys)
        return "the vision encoder attends queries == keys";
    const double kq = 4.0 * c.keys * static_cast<double>(c.queries) * c.heads;
    const double kv = 4.0 * c.keys * static_cast<double>(c.head_dim) * c.kv_heads * 2;
    if (kq + kv > kMaxProbeBytes) return "the case needs more than 1 GiB";
    return "";
}

double TimeAttention(const AttentionCase& c, int32_t threads, int32_t repeats, std::string* error) {
    error->clear();
    if (std::string why = ValidateAttentionCase(c); !why.empty()) {
        *error = why;
        return 0;
    }
    std::unique_ptr<ggml_backend, FreeWith<ggml_backend_free>> backend(
        ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, nullptr));
    if (!backend) {
        *error = "no CPU backend";
        return 0;
    }
    SetThreads(backend.get(), threads);
    ggml_init_params params{ggml_tensor_overhead() * 64 + ggml_graph_overhead(), nullptr, true};
    std::unique_ptr<ggml_context, FreeWith<ggml_free>> ctx(ggml_init(params));
    if (!ctx) {
        *error = "ggml_init failed";
        return 0;
    }
    Inputs in;
    ggml_tensor* out = c.layout == AttentionLayout::kKvCache ? BuildTextAttention(ctx.get(), c, in)
                                                             : BuildVisionAttention(ctx.get(), c, in);
    for (ggml_tensor* t : {in.q, in.k, in.v, in.mask}) {
        if (t) ggml_set_input(t);
    }
    ggml_set_output(out);
    ggml_cgraph* gf = ggml_new_graph(ctx.get());
    ggml_build_forward_expand(gf, out);
    std::unique_ptr<ggml_gallocr, FreeWith<ggml_gallocr_free>> alloc(
        ggml_gallocr_new(ggml_backend_get_default_buffer_type(backend.get())));
    if (!alloc || !ggml_gallocr_alloc_graph(alloc.get(), gf)) {
        *error = "cannot allocate the probe's graph";
        return 0;
    }
    FillInput(in.q, 1);
    FillInput(in.k, 2);
    FillInput(in.v, 3);
    if (in.mask) FillCausalMask(in.mask, c);
    std::vector<double> ms;
    for (int32_t r = 0; r <= repeats; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        if (ggml_backend_graph_compute(backend.get(), gf) != GGML_STATUS_SUCCESS) {
            *error = "the probe's graph failed to compute";
            return 0;
        }
        const auto t1 = std::chrono::steady_clock::now();
        if (r > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    // The fastest run: another process's burst only ever adds time, and one landing on the cases of one side
    // would flip the choice (a median of two is the slower run).
    return *std::min_element(ms.begin(), ms.end());
}

}  // namespace lg
