// Shared machinery of the Hugging Face -> GGUF converters: config defaults, the tensor planner (every
// name and shape is checked against the safetensors headers before a byte is written), the LLaMA/Qwen2
// text model, the CLIP/SigLIP tower + LLaVA MLP projector mmproj, and the atomic two-file write.

import { promises as fsp } from 'node:fs';
import path from 'node:path';

import { addTokenizerMetadata } from '../metadata.js';
import { GgmlType, GgufType } from '../types.js';
import { GgufWriter } from '../writer.js';
import { ConvertError, type SafetensorsModel } from './safetensors.js';
import type { ConvertedVocab } from './tokenizer.js';

export type OutType = 'f32' | 'f16' | 'q8_0';
export const OUT_TYPES: readonly OutType[] = ['f32', 'f16', 'q8_0'];
/** llama_ftype of the file as a whole */
const FILE_TYPE: Record<OutType, number> = { f32: 0, f16: 1, q8_0: 7 };

export type Json = Record<string, unknown>;

export async function readJson(file: string): Promise<Json> {
    let text: string;
    try {
        text = await fsp.readFile(file, 'utf8');
    } catch (error) {
        throw new ConvertError(`cannot read ${file}: ${(error as Error).message}`);
    }
    try {
        return JSON.parse(text) as Json;
    } catch (error) {
        throw new ConvertError(`${file}: not JSON (${(error as Error).message})`);
    }
}

export async function readJsonIf(file: string): Promise<Json | undefined> {
    try {
        await fsp.access(file);
    } catch {
        return undefined;
    }
    return readJson(file);
}

// --- config defaults (transformers saves sub-configs as a diff against these) ----------------

export const DEFAULTS: Record<string, Json> = {
    llama: {
        vocab_size: 32000,
        hidden_size: 4096,
        intermediate_size: 11008,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        hidden_act: 'silu',
        max_position_embeddings: 2048,
        rms_norm_eps: 1e-6,
        tie_word_embeddings: false,
        rope_theta: 10000,
        attention_bias: false,
        mlp_bias: false,
    },
    qwen2: {
        vocab_size: 151936,
        hidden_size: 4096,
        intermediate_size: 22016,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: 32,
        hidden_act: 'silu',
        max_position_embeddings: 32768,
        rms_norm_eps: 1e-6,
        tie_word_embeddings: false,
        rope_theta: 10000,
        use_sliding_window: false,
    },
    // LlavaConfig's default vision tower (CLIP ViT-L/14-336)
    clip_vision_model: {
        hidden_size: 1024,
        intermediate_size: 4096,
        num_hidden_layers: 24,
        num_attention_heads: 16,
        num_channels: 3,
        image_size: 336,
        patch_size: 14,
        hidden_act: 'quick_gelu',
        layer_norm_eps: 1e-5,
        projection_dim: 768,
    },
    // LlavaOnevisionConfig's default vision tower (SigLIP so400m, 26 layers)
    siglip_vision_model: {
        hidden_size: 1152,
        intermediate_size: 4304,
        num_hidden_layers: 26,
        num_attention_heads: 16,
        num_channels: 3,
        image_size: 384,
        patch_size: 14,
        hidden_act: 'gelu_pytorch_tanh',
        layer_norm_eps: 1e-6,
    },
};

export function withDefaults(sub: unknown, modelType: string, where: string): Json {
    const s = (sub ?? {}) as Json;
    const mt = (s.model_type as string | undefined) ?? modelType;
    if (mt !== modelType)
        throw new ConvertError(`${where}.model_type is '${mt}'; this converter handles '${modelType}'`);
    return { ...DEFAULTS[modelType], ...s };
}

export function num(cfg: Json, key: string, where: string): number {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isFinite(v))
        throw new ConvertError(`${where}.${key} is missing or not a number`);
    return v;
}

export function int(cfg: Json, key: string, where: string): number {
    const v = num(cfg, key, where);
    if (!Number.isInteger(v) || v <= 0) throw new ConvertError(`${where}.${key} = ${v} is not a positive integer`);
    return v;
}

// --- tensor planning -------------------------------------------------------------------------

export type TensorKind = 'matrix' | 'vector' | 'conv' | 'f32';
/** A row reordering, applied to float32 values or to raw F16 / F32 words alike. */
export type RowTransform = <T extends Float32Array | Uint16Array>(v: T) => T;

export class TensorPlanner {
    readonly used = new Set<string>();
    constructor(
        readonly st: SafetensorsModel,
        readonly outType: OutType,
    ) {}

    has(name: string): boolean {
        return this.st.get(name) !== undefined;
    }

    /**
     * Checks `hf` against the expected PyTorch shape and adds it to `w` as `gguf` (ggml dims = the
     * shape reversed). The data is read, transformed and encoded during write().
     */
    add(w: GgufWriter, gguf: string, hf: string, shape: number[], kind: TensorKind, transform?: RowTransform): void {
        const t = this.st.get(hf);
        if (!t) throw new ConvertError(`missing tensor '${hf}' (for ${gguf})`);
        if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
            throw new ConvertError(`tensor '${hf}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
        }
        if (!['F32', 'F16', 'BF16'].includes(t.dtype))
            throw new ConvertError(`tensor '${hf}': dtype ${t.dtype} is not supported (F32, F16, BF16 are)`);
        this.used.add(hf);
        const dims = [...shape].reverse();
        const type = this.typeFor(gguf, dims, kind);
        // same type in and out (F32 -> F32, F16 -> F16): the bytes pass through (permuted as u16/u32 rows)
        const passthrough =
            (t.dtype === 'F32' && type === GgmlType.F32) || (t.dtype === 'F16' && type === GgmlType.F16);
        w.addTensor(gguf, dims, type, async () => {
            if (passthrough) {
                const raw = await this.st.readRaw(hf);
                if (!transform) return raw;
                const aligned = new Uint8Array(raw.byteLength);
                aligned.set(raw);
                const view = t.dtype === 'F32' ? new Float32Array(aligned.buffer) : new Uint16Array(aligned.buffer);
                const out = transform(view);
                return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
            }
            const v = await this.st.readF32(hf);
            return transform ? transform(v) : v;
        });
    }

    typeFor(gguf: string, dims: number[], kind: TensorKind): number {
        if (
            kind === 'vector' ||
            kind === 'f32' ||
            dims.length <= 1 ||
            gguf.endsWith('_norm.weight') ||
            !gguf.endsWith('.weight')
        )
            return GgmlType.F32;
        if (kind === 'conv') return this.outType === 'f32' ? GgmlType.F32 : GgmlType.F16;
        switch (this.outType) {
            case 'f32':
                return GgmlType.F32;
            case 'f16':
                return GgmlType.F16;
            // as llama.cpp's converter: rows that are not a multiple of the block fall back to F16
            case 'q8_0':
                return dims[0]! % 32 === 0 ? GgmlType.Q8_0 : GgmlType.F16;
        }
    }

    /** Throws on tensors of the checkpoint that neither were converted nor are known to be unused. */
    checkAllUsed(ignore: (name: string) => boolean): void {
        const extra = [...this.st.tensors.keys()].filter((n) => !this.used.has(n) && !ignore(n));
        if (extra.length) {
            throw new ConvertError(
                `unexpected tensor${extra.length > 1 ? 's' : ''} in the checkpoint: ${extra
                    .slice(0, 8)
                    .map((n) => `'${n}'`)
                    .join(', ')}${extra.length > 8 ? ` and ${extra.length - 8} more` : ''}`,
            );
        }
    }
}

/**
 * llama.cpp's LlamaModel.permute: HF stores each head's rotary halves [x0..x(d/2-1), y0..]; llama.cpp's
 * non-NeoX rope wants them interleaved [x0, y0, x1, y1, ...]. Works on a weight [rows, cols] or a bias [rows].
 */
export function permuteQK<T extends Float32Array | Uint16Array>(v: T, nHead: number, rows: number): T {
    const cols = v.length / rows;
    const hd = rows / nHead;
    const half = hd / 2;
    const out = new (v.constructor as new (n: number) => T)(v.length);
    for (let h = 0; h < nHead; h++) {
        for (let i = 0; i < half; i++) {
            for (let j = 0; j < 2; j++) {
                const dst = h * hd + i * 2 + j;
                const src = h * hd + j * half + i;
                out.set(v.subarray(src * cols, (src + 1) * cols) as T, dst * cols);
            }
        }
    }
    return out;
}

// --- common metadata -------------------------------------------------------------------------

export interface ModelNaming {
    name: string;
    llavaguardVersion?: string;
}

/** general.name from config._name_or_path or the folder; the LlavaGuard version from either. */
export function modelNaming(dir: string, config: Json, override?: string): ModelNaming {
    const orig = typeof config._name_or_path === 'string' && config._name_or_path ? config._name_or_path : undefined;
    const base = path.basename(path.resolve(dir));
    const name = override ?? (orig ? orig.split('/').pop()! : base);
    let llavaguardVersion: string | undefined;
    for (const s of [override, orig, base]) {
        const m = s && /llavaguard[-_ ]?v?(\d+(?:\.\d+)+)/i.exec(s);
        if (m) {
            llavaguardVersion = m[1];
            break;
        }
    }
    return { name, llavaguardVersion };
}

export function commonMeta(
    w: GgufWriter,
    arch: string,
    kind: 'model' | 'mmproj',
    naming: ModelNaming,
    outType: OutType,
    hfArch: string,
    description: string,
): void {
    w.addString('general.architecture', arch);
    w.addString('general.type', kind);
    w.addString('general.name', naming.name + (kind === 'mmproj' ? ' mmproj' : ''));
    w.addString('general.description', description);
    w.addU32('general.file_type', FILE_TYPE[outType]);
    w.addU32('general.quantization_version', 2); // llama.cpp's converter writes it for every type
    w.addString('llavaguard.hf_architecture', hfArch);
    if (naming.llavaguardVersion) w.addString('llavaguard.version', naming.llavaguardVersion);
    w.addString('llavaguard.converter', 'llavaguard convert (TypeScript)');
}

// --- text model (LLaMA / Qwen2) ------------------------------------------------------------

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

// --- vision tower + projector (mmproj, projector `mlp`) -------------------------------------

export interface VisionSpec {
    tower: 'clip' | 'siglip';
    cfg: Json;
    /** prefix of `embeddings.` / `encoder.` in the checkpoint */
    base: string;
    /** prefix of `linear_1.` / `linear_2.` */
    projector: string;
    /** image_newline tensor name, when the model has one */
    imageNewline?: string;
    /** HF vision_feature_layer (negative counts from the end of hidden_states) */
    featureLayer: number;
    textEmbd: number;
    imageMean: number[];
    imageStd: number[];
    /** flattened pinpoints, as in the config */
    gridPinpoints?: number[];
    preprocessorConfig?: Json;
    extraStrings?: Record<string, string>;
}

/** Finds the tower prefix among the namings transformers has used. */
export function findPrefix(p: TensorPlanner, candidates: string[], probe: string, what: string): string {
    for (const c of candidates) if (p.has(c + probe)) return c;
    throw new ConvertError(
        `missing tensor: no ${what} found (looked for ${candidates.map((c) => `'${c}${probe}'`).join(', ')})`,
    );
}

export function planMmproj(w: GgufWriter, p: TensorPlanner, s: VisionSpec): { blocks: number } {
    const c = s.cfg;
    const where = 'vision_config';
    const E = int(c, 'hidden_size', where);
    const F = int(c, 'intermediate_size', where);
    const N = int(c, 'num_hidden_layers', where);
    const nHead = int(c, 'num_attention_heads', where);
    const P = int(c, 'patch_size', where);
    const S = int(c, 'image_size', where);
    const C = c.num_channels == null ? 3 : int(c, 'num_channels', where);
    if (C !== 3) throw new ConvertError(`${where}.num_channels ${C} is not supported (3 is)`);
    if (E % nHead)
        throw new ConvertError(`${where}: hidden_size ${E} is not a multiple of num_attention_heads ${nHead}`);
    // no divisibility check: SigLIP so400m-patch14-384 has 384 / 14 -> 27 x 27 patches (the conv drops the rest)
    const act = String(c.hidden_act);
    let useGelu: boolean;
    if (act === 'quick_gelu') useGelu = false;
    else if (act === 'gelu' || act === 'gelu_pytorch_tanh' || act === 'gelu_new') useGelu = true;
    else
        throw new ConvertError(
            `${where}.hidden_act '${act}' is not supported (quick_gelu, gelu, gelu_pytorch_tanh are)`,
        );
    // hidden_states[k] is the output of k encoder blocks (0 = the embeddings); llama.cpp runs `feature_layer` blocks
    const K = s.featureLayer < 0 ? N + s.featureLayer + 1 : s.featureLayer;
    if (!Number.isInteger(K) || K < 1 || K > N)
        throw new ConvertError(`vision_feature_layer ${s.featureLayer} is out of range for ${N} layers`);

    w.addBool('clip.has_vision_encoder', true);
    w.addBool('clip.has_text_encoder', false);
    w.addBool('clip.has_llava_projector', true);
    w.addString('clip.projector_type', 'mlp');
    w.addBool('clip.use_gelu', useGelu);
    w.addU32('clip.vision.image_size', S);
    w.addU32('clip.vision.patch_size', P);
    w.addU32('clip.vision.embedding_length', E);
    w.addU32('clip.vision.feed_forward_length', F);
    w.addU32('clip.vision.block_count', K);
    w.addArray('clip.vision.feature_layer', GgufType.INT32, [K]);
    w.addU32('clip.vision.projection_dim', s.textEmbd);
    w.addU32('clip.vision.attention.head_count', nHead);
    w.addF32('clip.vision.attention.layer_norm_epsilon', num(c, 'layer_norm_eps', where));
    if (s.imageMean.length !== 3 || s.imageStd.length !== 3)
        throw new ConvertError('image_mean / image_std must have 3 values');
    w.addArray('clip.vision.image_mean', GgufType.FLOAT32, s.imageMean);
    w.addArray('clip.vision.image_std', GgufType.FLOAT32, s.imageStd);
    if (s.gridPinpoints) w.addArray('clip.vision.image_grid_pinpoints', GgufType.INT32, s.gridPinpoints);
    w.addU32('llavaguard.vision.hf_num_hidden_layers', N);
    w.addI32('llavaguard.vision.hf_feature_layer', s.featureLayer);
    if (s.preprocessorConfig) w.addString('llavaguard.preprocessor_config', JSON.stringify(s.preprocessorConfig));
    for (const [k, v] of Object.entries(s.extraStrings ?? {})) w.addString(k, v);

    const b = s.base;
    const nPatch = Math.floor(S / P) ** 2; // integer division, as transformers' embeddings and clip.cpp
    const nPos = nPatch + (s.tower === 'clip' ? 1 : 0);
    p.add(w, 'v.patch_embd.weight', `${b}embeddings.patch_embedding.weight`, [E, 3, P, P], 'conv');
    if (s.tower === 'siglip') p.add(w, 'v.patch_embd.bias', `${b}embeddings.patch_embedding.bias`, [E], 'vector');
    if (s.tower === 'clip') p.add(w, 'v.class_embd', `${b}embeddings.class_embedding`, [E], 'vector');
    p.add(w, 'v.position_embd.weight', `${b}embeddings.position_embedding.weight`, [nPos, E], 'f32');
    if (s.tower === 'clip') {
        p.add(w, 'v.pre_ln.weight', `${b}pre_layrnorm.weight`, [E], 'vector');
        p.add(w, 'v.pre_ln.bias', `${b}pre_layrnorm.bias`, [E], 'vector');
    }
    for (let i = 0; i < K; i++) {
        const h = `${b}encoder.layers.${i}.`;
        const g = `v.blk.${i}.`;
        for (const [hn, gn] of [
            ['q_proj', 'attn_q'],
            ['k_proj', 'attn_k'],
            ['v_proj', 'attn_v'],
            ['out_proj', 'attn_out'],
        ] as const) {
            p.add(w, `${g}${gn}.weight`, `${h}self_attn.${hn}.weight`, [E, E], 'matrix');
            p.add(w, `${g}${gn}.bias`, `${h}self_attn.${hn}.bias`, [E], 'vector');
        }
        p.add(w, `${g}ln1.weight`, `${h}layer_norm1.weight`, [E], 'vector');
        p.add(w, `${g}ln1.bias`, `${h}layer_norm1.bias`, [E], 'vector');
        p.add(w, `${g}ln2.weight`, `${h}layer_norm2.weight`, [E], 'vector');
        p.add(w, `${g}ln2.bias`, `${h}layer_norm2.bias`, [E], 'vector');
        p.add(w, `${g}ffn_up.weight`, `${h}mlp.fc1.weight`, [F, E], 'matrix');
        p.add(w, `${g}ffn_up.bias`, `${h}mlp.fc1.bias`, [F], 'vector');
        p.add(w, `${g}ffn_down.weight`, `${h}mlp.fc2.weight`, [E, F], 'matrix');
        p.add(w, `${g}ffn_down.bias`, `${h}mlp.fc2.bias`, [E], 'vector');
    }
    const D = s.textEmbd;
    const q = s.projector;
    const hid = p.st.get(`${q}linear_1.weight`)?.shape[0] ?? D;
    p.add(w, 'mm.0.weight', `${q}linear_1.weight`, [hid, E], 'matrix');
    p.add(w, 'mm.0.bias', `${q}linear_1.bias`, [hid], 'vector');
    p.add(w, 'mm.2.weight', `${q}linear_2.weight`, [D, hid], 'matrix');
    p.add(w, 'mm.2.bias', `${q}linear_2.bias`, [D], 'vector');
    if (s.imageNewline) p.add(w, 'v.image_newline', s.imageNewline, [D], 'vector');
    return { blocks: K };
}

/** Tensors a LLaVA checkpoint has that llama.cpp's graph does not use. */
export function ignorableVisionTensor(name: string, base: string, usedBlocks: number): boolean {
    if (!name.startsWith(base)) return false;
    const rest = name.slice(base.length);
    if (rest.startsWith('post_layernorm.') || rest.startsWith('head.') || rest === 'embeddings.position_ids')
        return true;
    const m = /^encoder\.layers\.(\d+)\./.exec(rest);
    return !!m && Number(m[1]) >= usedBlocks;
}

// --- output ----------------------------------------------------------------------------------

export interface OutputFile {
    path: string;
    writer: GgufWriter;
}

/**
 * Writes each file as `<path>.part` (GgufWriter itself goes through `.part.tmp`), then renames them
 * all into place; on any failure every partial file is removed and no final name is touched.
 */
export async function writeAll(files: OutputFile[], log: (s: string) => void): Promise<number[]> {
    const sizes: number[] = [];
    const parts = files.map((f) => `${f.path}.part`);
    for (const f of files) await fsp.mkdir(path.dirname(f.path), { recursive: true });
    try {
        for (let i = 0; i < files.length; i++) {
            log(`writing ${files[i]!.path} (${files[i]!.writer.tensorCount} tensors)`);
            sizes.push(await files[i]!.writer.write(parts[i]!));
        }
        for (let i = 0; i < files.length; i++) await fsp.rename(parts[i]!, files[i]!.path);
    } catch (error) {
        for (const p of parts) {
            await fsp.rm(p, { force: true });
            await fsp.rm(`${p}.tmp`, { force: true });
        }
        throw error;
    }
    return sizes;
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
    return w;
}
