// The LLaMA / Qwen2 text model of a LLaVA checkpoint: its dims from text_config, its hyperparameters and
// vocabulary as metadata, and its tensors in llama.cpp's names (Q/K rows permuted for LLaMA's rope).

import { addTokenizerMetadata } from '../metadata.js';
import { GgufWriter } from '../writer.js';
import { commonMeta, type ModelNaming } from './common.js';
import { int, num, type Json } from './config.js';
import { ConvertError } from './safetensors.js';
import { permuteQK, type OutType, type RowTransform, type TensorPlanner } from './tensor-planner.js';
import { NORMALIZER_KEY, type ConvertedVocab } from './tokenizer.js';

export interface TextNames {
    /** e.g. 'language_model.model.' or 'model.language_model.' */
    base: string;
    /** the lm_head tensor name, if the checkpoint may have one */
    lmHead: string;
}

export interface TextSpec {
    arch: 'llama' | 'qwen2';
    cfg: Json;
    names: TextNames;
    /** Q/K row permutation for llama.cpp's non-NeoX rope (llama yes, qwen2 no) */
    permute: boolean;
    qkvBias: boolean;
}

export interface TextDims {
    nVocab: number;
    nEmbd: number;
    nFf: number;
    nLayer: number;
    nHead: number;
    nHeadKv: number;
    headDim: number;
    tied: boolean;
}

export function textDims(spec: TextSpec): TextDims {
    const c = spec.cfg;
    const w = 'text_config';
    const nEmbd = int(c, 'hidden_size', w);
    const nHead = int(c, 'num_attention_heads', w);
    const nHeadKv = c.num_key_value_heads == null ? nHead : int(c, 'num_key_value_heads', w);
    const headDim = c.head_dim == null ? nEmbd / nHead : int(c, 'head_dim', w);
    if (headDim * nHead !== nEmbd)
        throw new ConvertError(
            `text_config: head_dim ${headDim} x ${nHead} heads != hidden_size ${nEmbd} (not supported)`,
        );
    if (nHead % nHeadKv !== 0)
        throw new ConvertError(
            `text_config: num_attention_heads ${nHead} is not a multiple of num_key_value_heads ${nHeadKv}`,
        );
    if (c.hidden_act !== undefined && c.hidden_act !== 'silu')
        throw new ConvertError(`text_config.hidden_act '${String(c.hidden_act)}' is not supported (silu is)`);
    for (const k of ['rope_scaling']) {
        const rs = c[k] as Json | null | undefined;
        if (rs && (rs.rope_type ?? rs.type) !== 'default')
            throw new ConvertError(`text_config.${k} ${JSON.stringify(rs)} is not supported`);
    }
    const rp = c.rope_parameters as Json | undefined;
    if (rp && rp.rope_type !== undefined && rp.rope_type !== 'default')
        throw new ConvertError(`text_config.rope_parameters.rope_type '${String(rp.rope_type)}' is not supported`);
    if (spec.arch === 'llama' && (c.attention_bias || c.mlp_bias))
        throw new ConvertError('text_config: attention_bias/mlp_bias LLaMA models are not supported');
    if (spec.arch === 'qwen2' && c.use_sliding_window)
        throw new ConvertError('text_config.use_sliding_window is not supported');
    return {
        nVocab: int(c, 'vocab_size', w),
        nEmbd,
        nFf: int(c, 'intermediate_size', w),
        nLayer: int(c, 'num_hidden_layers', w),
        nHead,
        nHeadKv,
        headDim,
        tied: c.tie_word_embeddings === true,
    };
}

export function ropeTheta(c: Json): number {
    const rp = c.rope_parameters as Json | undefined;
    const v = rp?.rope_theta ?? c.rope_theta;
    return typeof v === 'number' ? v : 10000;
}

/** Adds the text model's hyperparameters (also written by --vocab-only, as llama.cpp does). */
export function addTextHparams(w: GgufWriter, spec: TextSpec, d: TextDims): void {
    const a = spec.arch;
    const c = spec.cfg;
    w.addU32(`${a}.context_length`, int(c, 'max_position_embeddings', 'text_config'));
    w.addU32(`${a}.embedding_length`, d.nEmbd);
    w.addU32(`${a}.block_count`, d.nLayer);
    w.addU32(`${a}.feed_forward_length`, d.nFf);
    w.addU32(`${a}.attention.head_count`, d.nHead);
    w.addU32(`${a}.attention.head_count_kv`, d.nHeadKv);
    w.addF32(`${a}.rope.freq_base`, ropeTheta(c));
    w.addF32(`${a}.attention.layer_norm_rms_epsilon`, num(c, 'rms_norm_eps', 'text_config'));
    w.addU32(`${a}.attention.key_length`, d.headDim);
    w.addU32(`${a}.attention.value_length`, d.headDim);
    if (a === 'llama') {
        w.addU32(`${a}.vocab_size`, d.nVocab);
        w.addU32(`${a}.rope.dimension_count`, d.headDim);
    }
}

/** Adds the text model's tensors (checking every name and shape). */
export function planTextModel(w: GgufWriter, p: TensorPlanner, spec: TextSpec, d: TextDims): void {
    const b = spec.names.base;
    const kv = d.headDim * d.nHeadKv;
    p.add(w, 'token_embd.weight', `${b}embed_tokens.weight`, [d.nVocab, d.nEmbd], 'matrix');
    p.add(w, 'output_norm.weight', `${b}norm.weight`, [d.nEmbd], 'vector');
    if (!d.tied) p.add(w, 'output.weight', spec.names.lmHead, [d.nVocab, d.nEmbd], 'matrix');
    for (let i = 0; i < d.nLayer; i++) {
        const h = `${b}layers.${i}.`;
        const g = `blk.${i}.`;
        const permQ: RowTransform | undefined = spec.permute ? (v) => permuteQK(v, d.nHead, d.nEmbd) : undefined;
        const permK: RowTransform | undefined = spec.permute ? (v) => permuteQK(v, d.nHeadKv, kv) : undefined;
        p.add(w, `${g}attn_norm.weight`, `${h}input_layernorm.weight`, [d.nEmbd], 'vector');
        p.add(w, `${g}attn_q.weight`, `${h}self_attn.q_proj.weight`, [d.nEmbd, d.nEmbd], 'matrix', permQ);
        p.add(w, `${g}attn_k.weight`, `${h}self_attn.k_proj.weight`, [kv, d.nEmbd], 'matrix', permK);
        p.add(w, `${g}attn_v.weight`, `${h}self_attn.v_proj.weight`, [kv, d.nEmbd], 'matrix');
        if (spec.qkvBias) {
            p.add(w, `${g}attn_q.bias`, `${h}self_attn.q_proj.bias`, [d.nEmbd], 'vector', permQ);
            p.add(w, `${g}attn_k.bias`, `${h}self_attn.k_proj.bias`, [kv], 'vector', permK);
            p.add(w, `${g}attn_v.bias`, `${h}self_attn.v_proj.bias`, [kv], 'vector');
        }
        p.add(w, `${g}attn_output.weight`, `${h}self_attn.o_proj.weight`, [d.nEmbd, d.nEmbd], 'matrix');
        p.add(w, `${g}ffn_norm.weight`, `${h}post_attention_layernorm.weight`, [d.nEmbd], 'vector');
        p.add(w, `${g}ffn_gate.weight`, `${h}mlp.gate_proj.weight`, [d.nFf, d.nEmbd], 'matrix');
        p.add(w, `${g}ffn_up.weight`, `${h}mlp.up_proj.weight`, [d.nFf, d.nEmbd], 'matrix');
        p.add(w, `${g}ffn_down.weight`, `${h}mlp.down_proj.weight`, [d.nEmbd, d.nFf], 'matrix');
    }
}

/** The text model's writer: metadata, hyperparameters and vocab (tensors are added by the caller). */
export function textWriter(
    spec: TextSpec,
    d: TextDims,
    naming: ModelNaming,
    vocab: ConvertedVocab,
    hfArch: string,
    outType: OutType,
    vocabOnly: boolean,
): GgufWriter {
    const w = new GgufWriter();
    const desc = vocabOnly
        ? `tokenizer and hyperparameters of ${naming.name} (vocab only, no tensors)`
        : `${naming.name} text model, converted from ${hfArch}`;
    commonMeta(w, spec.arch, 'model', naming, outType, hfArch, desc);
    addTextHparams(w, spec, d);
    addTokenizerMetadata(w, vocab);
    w.addString(NORMALIZER_KEY, vocab.normalizer);
    return w;
}
