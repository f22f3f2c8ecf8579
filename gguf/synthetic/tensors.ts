// The tensors of a LLaVA pair, in llama.cpp's names: the LLaMA / Qwen2 text model in the order its converter
// writes them, and the CLIP / SigLIP tower + mlp projector in the order convert_image_encoder_to_gguf.py writes
// them. One list for the tiny test models and the shape-faithful benchmark models.
import type { TinyTextDims, TinyVisionDims } from './dims.js';

/** Adds a matrix of `rows` rows of `cols` values, random with standard deviation `std`. */
export type AddMatrix = (name: string, cols: number, rows: number, std: number) => void;
/** Adds an F32 vector: random around `mean` with standard deviation `std`, or all `mean` when std is 0. */
export type AddVector = (name: string, n: number, std: number, mean?: number) => void;

export interface TensorAdders {
    mat: AddMatrix;
    vec: AddVector;
    /** A tensor kept at higher precision than the matrices (the patch kernel, the position embeddings). */
    conv: (name: string, dims: number[], std: number) => void;
}

/**
 * `embeddingStd`: of token_embd (and of output.weight when the embeddings are not tied), which sets the spread of
 * the logits after the final RMS norm.
 */
export function addTextModelTensors(
    t: TinyTextDims,
    nVocab: number,
    embeddingStd: number,
    { mat, vec }: TensorAdders,
): void {
    const nEmbdKv = (t.nEmbd / t.nHead) * t.nHeadKv;
    mat('token_embd.weight', t.nEmbd, nVocab, embeddingStd);
    vec('output_norm.weight', t.nEmbd, 0, 1);
    if (!t.tiedEmbeddings) mat('output.weight', t.nEmbd, nVocab, embeddingStd);
    const sIn = 1 / Math.sqrt(t.nEmbd);
    const sFf = 1 / Math.sqrt(t.nFf);
    for (let i = 0; i < t.nLayer; i++) {
        const p = `blk.${i}`;
        vec(`${p}.attn_norm.weight`, t.nEmbd, 0, 1);
        mat(`${p}.attn_q.weight`, t.nEmbd, t.nEmbd, sIn);
        mat(`${p}.attn_k.weight`, t.nEmbd, nEmbdKv, sIn);
        mat(`${p}.attn_v.weight`, t.nEmbd, nEmbdKv, sIn);
        if (t.qkvBias) {
            vec(`${p}.attn_q.bias`, t.nEmbd, 0.02);
            vec(`${p}.attn_k.bias`, nEmbdKv, 0.02);
            vec(`${p}.attn_v.bias`, nEmbdKv, 0.02);
        }
        mat(`${p}.attn_output.weight`, t.nEmbd, t.nEmbd, sIn);
        vec(`${p}.ffn_norm.weight`, t.nEmbd, 0, 1);
        mat(`${p}.ffn_gate.weight`, t.nEmbd, t.nFf, sIn);
        mat(`${p}.ffn_up.weight`, t.nEmbd, t.nFf, sIn);
        mat(`${p}.ffn_down.weight`, t.nFf, t.nEmbd, sFf);
    }
}

/**
 * The vision tower and the LLaVA projector (mm.0: E -> D, GELU, mm.2: D -> D; D = the text model's width
 * `nOut`). `legacyFfnNames`: fc1 (E -> F) stored as ffn_down and fc2 as ffn_up, as the legacy converter does
 * (clip.cpp detects it and swaps them back); otherwise fc1 is ffn_up.
 */
export function addVisionModelTensors(
    v: TinyVisionDims,
    nOut: number,
    legacyFfnNames: boolean,
    { mat, vec, conv }: TensorAdders,
): void {
    const E = v.nEmbd;
    const P = v.patchSize;
    const nPatches = Math.floor(v.imageSize / P) ** 2; // integer division, as clip.cpp: 384 / 14 -> 27
    const sE = 1 / Math.sqrt(E);
    mat('mm.0.weight', E, nOut, sE);
    vec('mm.0.bias', nOut, 0.02);
    mat('mm.2.weight', nOut, nOut, 1 / Math.sqrt(nOut));
    vec('mm.2.bias', nOut, 0.02);
    if (v.imageNewline) vec('v.image_newline', nOut, 0.5);
    if (v.classEmbedding) vec('v.class_embd', E, 0.1);
    // conv kernel [P, P, 3, E]; normalised pixels are O(1), so std 1/sqrt(fan_in) keeps patches O(1)
    conv('v.patch_embd.weight', [P, P, 3, E], 1 / Math.sqrt(P * P * 3));
    if (v.patchBias) vec('v.patch_embd.bias', E, 0.02);
    conv('v.position_embd.weight', [E, nPatches + (v.classEmbedding ? 1 : 0)], 0.1);
    if (v.preLayerNorm) {
        vec('v.pre_ln.weight', E, 0, 1);
        vec('v.pre_ln.bias', E, 0, 0);
    }
    const sF = 1 / Math.sqrt(v.nFf);
    const [fc1, fc2] = legacyFfnNames ? ['ffn_down', 'ffn_up'] : ['ffn_up', 'ffn_down'];
    for (let i = 0; i < v.nLayer; i++) {
        const p = `v.blk.${i}`;
        for (const n of ['attn_k', 'attn_v', 'attn_q', 'attn_out']) {
            mat(`${p}.${n}.weight`, E, E, sE);
            vec(`${p}.${n}.bias`, E, 0.02);
        }
        vec(`${p}.ln1.weight`, E, 0, 1);
        vec(`${p}.ln1.bias`, E, 0, 0);
        mat(`${p}.${fc1}.weight`, E, v.nFf, sE);
        vec(`${p}.${fc1}.bias`, v.nFf, 0.02);
        mat(`${p}.${fc2}.weight`, v.nFf, E, sF);
        vec(`${p}.${fc2}.bias`, E, 0.02);
        vec(`${p}.ln2.weight`, E, 0, 1);
        vec(`${p}.ln2.bias`, E, 0, 0);
    }
}
