// The tensors of a LLaMA / Qwen2 text model, in llama.cpp's names and in the order its converter writes them:
// one list for the tiny test models (written with data) and the shape-faithful benchmark plans (sizes only).
import type { TinyTextDims } from './tiny-models.js';

/** Adds a matrix of `rows` rows of `cols` values, random with standard deviation `std`. */
export type AddMatrix = (name: string, cols: number, rows: number, std: number) => void;
/** Adds an F32 vector: random around `mean` with standard deviation `std`, or all `mean` when std is 0. */
export type AddVector = (name: string, n: number, std: number, mean?: number) => void;

/**
 * `embeddingStd`: of token_embd (and of output.weight when the embeddings are not tied), which sets the spread of
 * the logits after the final RMS norm.
 */
export function addTextModelTensors(
    t: TinyTextDims,
    nVocab: number,
    embeddingStd: number,
    mat: AddMatrix,
    vec: AddVector,
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
