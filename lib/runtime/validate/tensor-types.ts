// Tensor types that ggml's CPU kernels can run where llama.cpp and clip.cpp put each tensor. A type a kernel has
// no case for is a GGML_ABORT when the first graph runs (found by fuzzing, scripts/fuzz/targets/model-edits.ts: a
// q8_0 attn_norm.weight reaches ggml_mul and binary-ops.cpp aborts on "unsupported types: src1: q8_0").

import { GgmlType, ggmlTypeName } from '../../../gguf/types.js';
import type { HeaderChecks } from './header-checks.js';

/** Types mul_mat and get_rows take as weights (no Q8_1 / Q8_K: those are activation formats, no integer types). */
const WEIGHT_TYPES: ReadonlySet<number> = new Set([
    GgmlType.F32,
    GgmlType.F16,
    GgmlType.BF16,
    GgmlType.Q4_0,
    GgmlType.Q4_1,
    GgmlType.Q5_0,
    GgmlType.Q5_1,
    GgmlType.Q8_0,
    GgmlType.Q2_K,
    GgmlType.Q3_K,
    GgmlType.Q4_K,
    GgmlType.Q5_K,
    GgmlType.Q6_K,
    GgmlType.IQ2_XXS,
    GgmlType.IQ2_XS,
    GgmlType.IQ3_XXS,
    GgmlType.IQ1_S,
    GgmlType.IQ4_NL,
    GgmlType.IQ3_S,
    GgmlType.IQ2_S,
    GgmlType.IQ4_XS,
    GgmlType.IQ1_M,
    GgmlType.TQ1_0,
    GgmlType.TQ2_0,
    GgmlType.MXFP4,
]);

/**
 * Refuses a tensor whose type the kernel it reaches cannot take:
 * - a vector (norm weights, biases, class embedding, image newline: one dimension) must be F32: the graphs add or
 *   multiply it into F32 activations, and ggml-cpu/binary-ops.cpp takes an F32 activation only with an F32 operand
 *   (llama.cpp's converters and quantize always keep vectors F32);
 * - a convolution kernel (`convKernels`, clip's patch embedding) must be F16 or F32: ggml_conv_2d's im2col makes
 *   its output in the kernel's type and has no quantized case;
 * - any other tensor (a matrix for mul_mat, the token embeddings for get_rows) must be a weight type.
 */
export function checkTensorTypes(c: HeaderChecks, convKernels: readonly string[] = []): void {
    for (const t of c.header.tensors) {
        const type = `${ggmlTypeName(t.type)} (ggml type ${t.type})`;
        if (t.dims.slice(1).every((d) => d === 1)) {
            if (t.type !== GgmlType.F32) {
                c.fail(`tensor ${t.name} is ${type}: a vector (norm, bias, embedding) must be F32`);
            }
        } else if (convKernels.includes(t.name)) {
            if (t.type !== GgmlType.F32 && t.type !== GgmlType.F16) {
                c.fail(`tensor ${t.name} is ${type}: a convolution kernel must be F16 or F32`);
            }
        } else if (!WEIGHT_TYPES.has(t.type)) {
            c.fail(`tensor ${t.name} is ${type}, not a weight type ggml's matrix kernels take`);
        }
    }
}
