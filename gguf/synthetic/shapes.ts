// Random-weight model pairs with the exact tensor shapes, metadata and vocabularies of the real LlavaGuard
// models, for load / speed / memory measurements (gguf/tiny-models.ts makes the small ones for tests):
//
//   llavaguard-v1.2-0.5b  LlavaGuard-v1.2-0.5B-OV = LLaVA-OneVision-0.5B: Qwen2-0.5B text model (qwen2, 24 layers,
//                         896 wide, 14 heads / 2 KV heads, n_ff 4864, q/k/v biases, tied embeddings, the real
//                         151,936-token Qwen2 vocabulary) + SigLIP so400m-patch14-384 tower (27 blocks of which
//                         llama.cpp runs 26, 1152 wide, n_ff 4304, 16 heads, 729 patches, GELU) + mlp projector
//                         1152 -> 896 -> 896, with OneVision's 36 anyres grid pinpoints.
//   llavaguard-v1.1-7b    LlavaGuard-v1.1-7B = LLaVA-1.5-7B: LLaMA-2-7B (32 layers, 4096 wide, 32 heads, n_ff 11008,
//                         32,000-token SentencePiece vocabulary) + CLIP ViT-L/14-336 (24 blocks, 23 run, 1024 wide,
//                         n_ff 4096, 576 patches + class embedding, quick-GELU, pre-layernorm) + mlp 1024 -> 4096
//                         -> 4096. Only in Q8_0 (about 7 GB); for memory figures.
//
// The files are written tensor by tensor and, inside a tensor, a few million values at a time, so memory stays
// bounded (tens of MB) whatever the model size. Same options => the same bytes.
//
// Layout follows llama.cpp's own converters: the text model as convert_hf_to_gguf.py writes a qwen2/llama model
// (norms and biases F32, matrices in the chosen type), the mmproj as tools/mtmd/legacy-models/
// convert_image_encoder_to_gguf.py writes a LLaVA image encoder (4-D and 2-D weights F16, the rest F32; SigLIP's
// projection_dim 0; fc1/fc2 stored under the legacy names ffn_down/ffn_up, which clip.cpp detects and swaps back;
// no post-layernorm; OneVision's image_aspect_ratio / mm_patch_merge_type / mm_projector_type strings). One
// deliberate difference: the converter drops the unused last encoder block (and then writes block_count
// N-1 and clip.vision.feature_layer [N-1]); here all N blocks are stored with block_count N and llama.cpp's
// llava graph runs N-1 of them, which is the same computation (OneVision and LLaVA-1.5 both take the
// penultimate layer's output).

import { promises as fsp } from 'node:fs';
import path from 'node:path';

import { quantizeQ8_0 } from '../encode.js';
import { loadRealVocab, type RealVocabId } from './real-vocab.js';
import { addTextModelTensors } from './tensors.js';
import { makeRng, type TinyFamily, type TinyTextDims, type TinyVisionDims } from './tiny-models.js';
import { VICUNA_CHAT_TEMPLATE, type TinyVocab } from './tiny-vocab.js';
import { GgmlType, GgufType, ggmlTensorBytes, ggmlTypeName, type GgufScalar, type GgufScalarType } from '../types.js';
import { GgufWriter, encodeTensor } from '../writer.js';

export type ShapedModelId = 'llavaguard-v1.2-0.5b' | 'llavaguard-v1.1-7b';
export type ShapedWeightType = 'f16' | 'bf16' | 'q8_0';

/** Bump when the generated files change. */
export const SHAPED_MODEL_GENERATOR_VERSION = 2;

export interface ShapedVisionDims extends TinyVisionDims {
    /** clip.vision.image_aspect_ratio as the LLaVA config names it (informational for llama.cpp) */
    imageAspectRatio?: string;
    /** clip.vision.mm_patch_merge_type */
    mmPatchMergeType?: string;
    /** clip.vision.mm_projector_type (LLaVA's name of the projector, e.g. mlp2x_gelu) */
    mmProjectorType?: string;
}

export interface ShapedModelSpec {
    id: ShapedModelId;
    /** the real model this mirrors */
    mirrors: string;
    family: TinyFamily;
    text: TinyTextDims;
    vocab: RealVocabId;
    vocabSize: number;
    chatTemplate: string;
    vision: ShapedVisionDims;
    /** weight types this shape may be written in */
    weightTypes: readonly ShapedWeightType[];
}

/** Qwen2-Instruct's own template (ChatML with the default system turn), as Qwen2-0.5B-Instruct ships it. */
export const QWEN2_CHAT_TEMPLATE =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}" +
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}" +
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** LLaVA-OneVision's anyres grid: every [w, h] with w, h in 384 * {1..6}, flattened. */
export function oneVisionPinpoints(): number[] {
    const out: number[] = [];
    for (let i = 1; i <= 6; i++) for (let j = 1; j <= 6; j++) out.push(384 * i, 384 * j);
    return out;
}

export const SHAPED_MODELS: Readonly<Record<ShapedModelId, ShapedModelSpec>> = Object.freeze({
    'llavaguard-v1.2-0.5b': {
        id: 'llavaguard-v1.2-0.5b',
        mirrors: 'AIML-TUDA/LlavaGuard-v1.2-0.5B-OV (LLaVA-OneVision: Qwen2-0.5B + SigLIP so400m-patch14-384)',
        family: 'onevision',
        text: {
            arch: 'qwen2',
            nEmbd: 896,
            nHead: 14,
            nHeadKv: 2,
            nFf: 4864,
            nLayer: 24,
            contextLength: 32768,
            rmsEps: 1e-6,
            ropeFreqBase: 1000000,
            qkvBias: true,
            tiedEmbeddings: true,
        },
        vocab: 'qwen2',
        vocabSize: 151936,
        chatTemplate: QWEN2_CHAT_TEMPLATE,
        vision: {
            imageSize: 384,
            patchSize: 14,
            nEmbd: 1152,
            nHead: 16,
            nFf: 4304,
            nLayer: 27,
            projectionDim: 0,
            eps: 1e-6,
            useGelu: true,
            classEmbedding: false,
            preLayerNorm: false,
            patchBias: true,
            imageMean: [0.5, 0.5, 0.5],
            imageStd: [0.5, 0.5, 0.5],
            gridPinpoints: oneVisionPinpoints(),
            imageAspectRatio: 'anyres_max_9',
            mmPatchMergeType: 'spatial_unpad',
            mmProjectorType: 'mlp2x_gelu',
        },
        weightTypes: ['f16', 'bf16', 'q8_0'],
    },
    'llavaguard-v1.1-7b': {
        id: 'llavaguard-v1.1-7b',
        mirrors: 'AIML-TUDA/LlavaGuard-7B (LLaVA-1.5-7B: LLaMA-2-7B/Vicuna + CLIP ViT-L/14-336)',
        family: 'llava15',
        text: {
            arch: 'llama',
            nEmbd: 4096,
            nHead: 32,
            nHeadKv: 32,
            nFf: 11008,
            nLayer: 32,
            contextLength: 4096,
            rmsEps: 1e-5,
            ropeFreqBase: 10000,
            qkvBias: false,
            tiedEmbeddings: false,
        },
        vocab: 'llama2',
        vocabSize: 32000,
        chatTemplate: VICUNA_CHAT_TEMPLATE,
        vision: {
            imageSize: 336,
            patchSize: 14,
            nEmbd: 1024,
            nHead: 16,
            nFf: 4096,
            nLayer: 24,
            projectionDim: 768,
            eps: 1e-5,
            useGelu: false,
            classEmbedding: true,
            preLayerNorm: true,
            patchBias: false,
            imageMean: [0.48145466, 0.4578275, 0.40821073],
            imageStd: [0.26862954, 0.26130258, 0.27577711],
        },
        weightTypes: ['q8_0'],
    },
});

// ---------------------------------------------------------------------------------------------
// The plan: every metadata key and every tensor (name, ggml dims, type, how to fill it), without data.

export interface PlannedKV {
    key: string;
    type: GgufType;
    /** for arrays */
    elemType?: GgufScalarType;
    value: GgufScalar | GgufScalar[];
}

/** Values are uniform with this standard deviation around `mean`; std 0 = all `mean`. */
export interface TensorInit {
    std: number;
    mean: number;
}

export interface PlannedTensor {
    name: string;
    /** ggml order: dims[0] is the row length */
    dims: number[];
    type: number;
    typeName: string;
    nElements: number;
    nbytes: number;
    init: TensorInit;
}

export interface GgufFilePlan {
    what: 'model' | 'mmproj';
    metadata: PlannedKV[];
    tensors: PlannedTensor[];
}

export interface ShapedModelPlan {
    spec: ShapedModelSpec;
    weightType: ShapedWeightType;
    mmprojWeightType: ShapedWeightType;
    seed: number;
    model: GgufFilePlan;
    mmproj: GgufFilePlan;
}

export interface PlanShapedModelOptions {
    shapes: ShapedModelId;
    /** Text-model matrices. Default 'q8_0' (the only one for llavaguard-v1.1-7b). */
    weightType?: ShapedWeightType;
    /** Vision tower and projector matrices. Default 'f16', as real mmproj files are. */
    mmprojWeightType?: ShapedWeightType;
    seed?: number;
}

const FILE_TYPE: Record<ShapedWeightType, number> = { f16: 1, bf16: 32, q8_0: 7 }; // llama_ftype

class PlanBuilder {
    readonly metadata: PlannedKV[] = [];
    readonly tensors: PlannedTensor[] = [];
    constructor(readonly what: 'model' | 'mmproj') {}

    kv(key: string, type: GgufScalarType, value: GgufScalar): void {
        this.metadata.push({ key, type, value });
    }
    str(key: string, v: string) {
        this.kv(key, GgufType.STRING, v);
    }
    bool(key: string, v: boolean) {
        this.kv(key, GgufType.BOOL, v);
    }
    u32(key: string, v: number) {
        this.kv(key, GgufType.UINT32, v);
    }
    f32(key: string, v: number) {
        this.kv(key, GgufType.FLOAT32, v);
    }
    arr(key: string, elemType: GgufScalarType, value: GgufScalar[]) {
        this.metadata.push({ key, type: GgufType.ARRAY, elemType, value });
    }

    tensor(name: string, dims: number[], type: number, std: number, mean = 0): void {
        this.tensors.push({
            name,
            dims,
            type,
            typeName: ggmlTypeName(type),
            nElements: dims.reduce((a, b) => a * b, 1),
            nbytes: ggmlTensorBytes(dims, type),
            init: { std, mean },
        });
    }

    plan(): GgufFilePlan {
        return { what: this.what, metadata: this.metadata, tensors: this.tensors };
    }
}

/** Q8_0 needs rows that are a multiple of 32; others stay F16, as llama-quantize does. BF16: every matrix. */
function matrixType(w: ShapedWeightType, rowLength: number): number {
    if (w === 'bf16') return GgmlType.BF16;
    if (w === 'q8_0' && rowLength % 32 === 0) return GgmlType.Q8_0;
    return GgmlType.F16;
}

function commonMeta(
    b: PlanBuilder,
    spec: ShapedModelSpec,
    arch: string,
    weightType: ShapedWeightType,
    seed: number,
): void {
    const mm = b.what === 'mmproj';
    b.str('general.architecture', arch);
    b.str('general.type', mm ? 'mmproj' : 'model');
    b.str('general.name', `${spec.id}-shaped${mm ? '-mmproj' : ''}`);
    b.str(
        'general.description',
        mm
            ? `image encoder for LLaVA; random weights with the shapes of ${spec.mirrors} (seed ${seed}); not a real model`
            : `Random weights with the shapes of ${spec.mirrors} (seed ${seed}, ${weightType}); not a real model`,
    );
    b.u32('general.file_type', FILE_TYPE[weightType]);
    if (weightType === 'q8_0' && !mm) b.u32('general.quantization_version', 2);
    b.str('llavaguard.family', spec.family);
    b.str('llavaguard.shapes', spec.id);
    b.bool('llavaguard.test_model', true);
    b.u32('llavaguard.test_model.seed', seed >>> 0);
    b.u32('llavaguard.test_model.generator_version', SHAPED_MODEL_GENERATOR_VERSION);
}

function addVocab(b: PlanBuilder, v: TinyVocab, spec: ShapedModelSpec): void {
    const spm = spec.vocab === 'llama2';
    b.str('tokenizer.ggml.model', spm ? 'llama' : 'gpt2');
    b.str('tokenizer.ggml.pre', spm ? 'default' : 'qwen2');
    b.arr('tokenizer.ggml.tokens', GgufType.STRING, v.tokens);
    if (v.scores) b.arr('tokenizer.ggml.scores', GgufType.FLOAT32, v.scores);
    b.arr('tokenizer.ggml.token_type', GgufType.INT32, v.tokenTypes);
    if (v.merges) b.arr('tokenizer.ggml.merges', GgufType.STRING, v.merges);
    b.u32('tokenizer.ggml.bos_token_id', v.bosId);
    b.u32('tokenizer.ggml.eos_token_id', v.eosId);
    if (v.unkId !== undefined) b.u32('tokenizer.ggml.unknown_token_id', v.unkId);
    b.u32('tokenizer.ggml.padding_token_id', v.padId);
    b.bool('tokenizer.ggml.add_bos_token', spm);
    b.bool('tokenizer.ggml.add_eos_token', false);
    b.str('tokenizer.chat_template', spec.chatTemplate);
}

function planTextModel(spec: ShapedModelSpec, weightType: ShapedWeightType, seed: number): GgufFilePlan {
    const t = spec.text;
    const vocab = loadRealVocab(spec.vocab);
    if (vocab.tokens.length !== spec.vocabSize) {
        throw new Error(`${spec.id}: vocabulary has ${vocab.tokens.length} tokens, expected ${spec.vocabSize}`);
    }
    const nVocab = vocab.tokens.length;
    const headDim = t.nEmbd / t.nHead;
    const b = new PlanBuilder('model');
    commonMeta(b, spec, t.arch, weightType, seed);
    const a = t.arch;
    b.u32(`${a}.context_length`, t.contextLength);
    b.u32(`${a}.embedding_length`, t.nEmbd);
    b.u32(`${a}.block_count`, t.nLayer);
    b.u32(`${a}.feed_forward_length`, t.nFf);
    b.u32(`${a}.attention.head_count`, t.nHead);
    b.u32(`${a}.attention.head_count_kv`, t.nHeadKv);
    b.f32(`${a}.attention.layer_norm_rms_epsilon`, t.rmsEps);
    b.u32(`${a}.rope.dimension_count`, headDim);
    b.f32(`${a}.rope.freq_base`, t.ropeFreqBase);
    b.u32(`${a}.vocab_size`, nVocab);
    addVocab(b, vocab, spec);

    const mat = (name: string, cols: number, rows: number, std: number) =>
        b.tensor(name, [cols, rows], matrixType(weightType, cols), std);
    const vec = (name: string, n: number, std: number, mean = 0) => b.tensor(name, [n], GgmlType.F32, std, mean);

    // std 1/sqrt(n_embd) for the output projection (tied or not): logits of std ~1 after the final RMS norm
    addTextModelTensors(t, nVocab, 1 / Math.sqrt(t.nEmbd), mat, vec);
    return b.plan();
}

function planMmproj(spec: ShapedModelSpec, weightType: ShapedWeightType, seed: number): GgufFilePlan {
    const v = spec.vision;
    const nOut = spec.text.nEmbd;
    const b = new PlanBuilder('mmproj');
    commonMeta(b, spec, 'clip', weightType, seed);
    b.bool('clip.has_text_encoder', false);
    b.bool('clip.has_vision_encoder', true);
    b.bool('clip.has_llava_projector', true);
    b.str('clip.projector_type', 'mlp');
    b.u32('clip.vision.image_size', v.imageSize);
    b.u32('clip.vision.patch_size', v.patchSize);
    b.u32('clip.vision.embedding_length', v.nEmbd);
    b.u32('clip.vision.feed_forward_length', v.nFf);
    b.u32('clip.vision.projection_dim', v.projectionDim);
    b.u32('clip.vision.attention.head_count', v.nHead);
    b.f32('clip.vision.attention.layer_norm_epsilon', v.eps);
    b.u32('clip.vision.block_count', v.nLayer);
    if (v.gridPinpoints) b.arr('clip.vision.image_grid_pinpoints', GgufType.INT32, v.gridPinpoints);
    if (v.imageAspectRatio) {
        b.str('clip.vision.image_aspect_ratio', v.imageAspectRatio);
        // what `llavaguard convert` writes from config.json: our image pipeline reads it (lib/pipeline)
        b.str('llavaguard.vision_aspect_ratio', v.imageAspectRatio);
    }
    if (v.mmPatchMergeType) b.str('clip.vision.mm_patch_merge_type', v.mmPatchMergeType);
    if (v.mmProjectorType) b.str('clip.vision.mm_projector_type', v.mmProjectorType);
    b.arr('clip.vision.image_mean', GgufType.FLOAT32, v.imageMean);
    b.arr('clip.vision.image_std', GgufType.FLOAT32, v.imageStd);
    b.bool('clip.use_gelu', v.useGelu);

    // the converter keeps 4-D and 2-D ".weight" tensors in F16 (or the chosen type) and everything else in F32
    const mat = (name: string, cols: number, rows: number, std: number) =>
        b.tensor(name, [cols, rows], matrixType(weightType, cols), std);
    const vec = (name: string, n: number, std: number, mean = 0) => b.tensor(name, [n], GgmlType.F32, std, mean);

    const E = v.nEmbd;
    const P = v.patchSize;
    const nPatches = Math.floor(v.imageSize / P) ** 2; // integer division, as clip.cpp: 384 / 14 -> 27
    const nPos = nPatches + (v.classEmbedding ? 1 : 0);
    // projector first, as convert_image_encoder_to_gguf.py adds llava.projector's tensors before the tower's
    mat('mm.0.weight', E, nOut, 1 / Math.sqrt(E));
    vec('mm.0.bias', nOut, 0.02);
    mat('mm.2.weight', nOut, nOut, 1 / Math.sqrt(nOut));
    vec('mm.2.bias', nOut, 0.02);
    // OneVision's row separator (the converter writes model.image_newline as v.image_newline)
    if (v.imageAspectRatio?.startsWith('anyres')) vec('v.image_newline', nOut, 0.5);
    if (v.classEmbedding) vec('v.class_embd', E, 0.1);
    // conv kernel [P, P, 3, E] (always F16); normalised pixels are O(1), std 1/sqrt(fan_in) keeps patches O(1)
    b.tensor('v.patch_embd.weight', [P, P, 3, E], GgmlType.F16, 1 / Math.sqrt(P * P * 3));
    if (v.patchBias) vec('v.patch_embd.bias', E, 0.02);
    b.tensor('v.position_embd.weight', [E, nPos], GgmlType.F16, 0.1);
    if (v.preLayerNorm) {
        vec('v.pre_ln.weight', E, 0, 1);
        vec('v.pre_ln.bias', E, 0, 0);
    }
    const sE = 1 / Math.sqrt(E);
    const sF = 1 / Math.sqrt(v.nFf);
    for (let i = 0; i < v.nLayer; i++) {
        const p = `v.blk.${i}`;
        for (const n of ['attn_k', 'attn_v', 'attn_q']) {
            mat(`${p}.${n}.weight`, E, E, sE);
            vec(`${p}.${n}.bias`, E, 0.02);
        }
        mat(`${p}.attn_out.weight`, E, E, sE);
        vec(`${p}.attn_out.bias`, E, 0.02);
        vec(`${p}.ln1.weight`, E, 0, 1);
        vec(`${p}.ln1.bias`, E, 0, 0);
        // legacy names: fc1 (E -> F) is stored as ffn_down, fc2 (F -> E) as ffn_up; clip.cpp swaps them back
        mat(`${p}.ffn_down.weight`, E, v.nFf, sE);
        vec(`${p}.ffn_down.bias`, v.nFf, 0.02);
        mat(`${p}.ffn_up.weight`, v.nFf, E, sF);
        vec(`${p}.ffn_up.bias`, E, 0.02);
        vec(`${p}.ln2.weight`, E, 0, 1);
        vec(`${p}.ln2.bias`, E, 0, 0);
    }
    return b.plan();
}

function checkOptions(opts: PlanShapedModelOptions): Required<PlanShapedModelOptions> & { spec: ShapedModelSpec } {
    const spec = (SHAPED_MODELS as Record<string, ShapedModelSpec | undefined>)[opts?.shapes];
    if (!spec)
        throw new TypeError(
            `unknown shapes '${String(opts?.shapes)}': expected ${Object.keys(SHAPED_MODELS).join(' | ')}`,
        );
    const weightType = opts.weightType ?? 'q8_0';
    const mmprojWeightType = opts.mmprojWeightType ?? 'f16';
    if (!spec.weightTypes.includes(weightType)) {
        throw new TypeError(
            `${spec.id} is written only as ${spec.weightTypes.join(' or ')} (got weightType '${weightType}')`,
        );
    }
    if (!['f16', 'q8_0'].includes(mmprojWeightType))
        throw new TypeError(`unknown mmprojWeightType '${mmprojWeightType}'`);
    const seed = opts.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
        throw new RangeError(`seed must be a u32, got ${seed}`);
    return { shapes: spec.id, weightType, mmprojWeightType, seed, spec };
}

/** Everything makeShapedModel would write, except the tensor data (loads the vocabulary; no big allocations). */
export function planShapedModel(opts: PlanShapedModelOptions): ShapedModelPlan {
    const o = checkOptions(opts);
    return {
        spec: o.spec,
        weightType: o.weightType,
        mmprojWeightType: o.mmprojWeightType,
        seed: o.seed,
        model: planTextModel(o.spec, o.weightType, o.seed),
        mmproj: planMmproj(o.spec, o.mmprojWeightType, o.seed),
    };
}

export function planParameterCount(plan: GgufFilePlan): number {
    return plan.tensors.reduce((n, t) => n + t.nElements, 0);
}

/** Image tokens one tile gives ((image_size / patch_size)^2). */
export function shapedImageTokensPerTile(shapes: ShapedModelId): number {
    const v = SHAPED_MODELS[shapes].vision;
    return Math.floor(v.imageSize / v.patchSize) ** 2;
}

// ---------------------------------------------------------------------------------------------
// Writing

function toWriter(plan: GgufFilePlan): GgufWriter {
    const w = new GgufWriter();
    for (const kv of plan.metadata) {
        if (kv.type === GgufType.ARRAY) w.addKV(kv.key, GgufType.ARRAY, kv.value as GgufScalar[], kv.elemType!);
        else w.addKV(kv.key, kv.type as GgufScalarType, kv.value as GgufScalar);
    }
    for (const t of plan.tensors) {
        w.addTensor(t.name, t.dims, t.type, () => {
            throw new Error('shaped tensors are streamed, not materialised');
        });
    }
    return w;
}

/** The file's header (magic .. padding before the data section) for a plan. */
export async function planHeader(plan: GgufFilePlan): Promise<Uint8Array> {
    const it = toWriter(plan).chunks();
    const first = await it.next();
    await it.return(undefined);
    return first.value as Uint8Array;
}

/** Bytes of the file a plan describes. */
export async function planFileSize(plan: GgufFilePlan): Promise<number> {
    const header = await planHeader(plan);
    return header.byteLength + plan.tensors.reduce((n, t) => n + Math.ceil(t.nbytes / 32) * 32, 0);
}

/** About this many values are generated and encoded at a time. */
const CHUNK_VALUES = 1 << 22;

export interface ShapedProgress {
    file: 'model' | 'mmproj';
    tensor: string;
    bytesWritten: number;
    totalBytes: number;
}

async function writeAll(fh: fsp.FileHandle, b: Uint8Array): Promise<void> {
    let off = 0;
    while (off < b.byteLength) {
        const { bytesWritten } = await fh.write(b, off, b.byteLength - off);
        off += bytesWritten;
    }
}

/**
 * Streams one planned file to `file` (via `file.tmp` + rename). Each tensor's values come from its own
 * deterministic stream (makeRng(seed, name)), generated a few million at a time.
 */
export async function writePlannedFile(
    plan: GgufFilePlan,
    file: string,
    seed: number,
    onProgress?: (p: ShapedProgress) => void,
): Promise<number> {
    const header = await planHeader(plan);
    const totalBytes = header.byteLength + plan.tensors.reduce((n, t) => n + Math.ceil(t.nbytes / 32) * 32, 0);
    const tmp = `${file}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    let written = 0;
    let ok = false;
    try {
        await writeAll(fh, header);
        written += header.byteLength;
        const values = new Float32Array(CHUNK_VALUES + 4096);
        for (const t of plan.tensors) {
            const rowLen = t.dims[0]!;
            const perChunk = Math.max(rowLen, Math.floor(CHUNK_VALUES / rowLen) * rowLen);
            const rng = makeRng(seed, t.name);
            const a = t.init.std * Math.sqrt(3);
            const { mean } = t.init;
            let tensorBytes = 0;
            for (let done = 0; done < t.nElements; done += perChunk) {
                const n = Math.min(perChunk, t.nElements - done);
                const buf = n <= values.length ? values.subarray(0, n) : new Float32Array(n);
                if (t.init.std === 0) buf.fill(mean);
                else for (let i = 0; i < n; i++) buf[i] = mean + a * ((rng() / 4294967296) * 2 - 1);
                const bytes = t.type === GgmlType.Q8_0 ? quantizeQ8_0(buf) : encodeTensor(buf, t.type);
                await writeAll(fh, bytes);
                tensorBytes += bytes.byteLength;
                written += bytes.byteLength;
            }
            if (tensorBytes !== t.nbytes)
                throw new Error(`tensor ${t.name}: wrote ${tensorBytes} bytes, expected ${t.nbytes}`);
            const padding = Math.ceil(t.nbytes / 32) * 32 - t.nbytes;
            if (padding) {
                await writeAll(fh, new Uint8Array(padding));
                written += padding;
            }
            onProgress?.({ file: plan.what, tensor: t.name, bytesWritten: written, totalBytes });
        }
        if (written !== totalBytes) throw new Error(`wrote ${written} bytes, expected ${totalBytes}`);
        await fh.sync();
        ok = true;
    } finally {
        await fh.close();
        if (!ok) await fsp.rm(tmp, { force: true });
    }
    await fsp.rename(tmp, file);
    return written;
}

export interface MakeShapedModelOptions extends PlanShapedModelOptions {
    outDir: string;
    onProgress?: (p: ShapedProgress) => void;
}

export interface ShapedModelFiles {
    model: string;
    mmproj: string;
    modelBytes: number;
    mmprojBytes: number;
    /** parameters (tensor elements) of each file */
    modelParameters: number;
    mmprojParameters: number;
    /** wall time of the write */
    ms: number;
}

/**
 * Writes `outDir/model.gguf` and `outDir/mmproj.gguf` (creating outDir). Same options => the same bytes.
 * llavaguard-v1.2-0.5b: ~0.5 GB (Q8_0) or ~1 GB (F16) text model + ~0.83 GB F16 mmproj.
 * llavaguard-v1.1-7b: ~7.2 GB Q8_0 text model + ~0.62 GB F16 mmproj; write it only on purpose.
 */
export async function makeShapedModel(opts: MakeShapedModelOptions): Promise<ShapedModelFiles> {
    const t0 = performance.now();
    const plan = planShapedModel(opts);
    if (typeof opts.outDir !== 'string' || opts.outDir === '')
        throw new TypeError('makeShapedModel: outDir is required');
    await fsp.mkdir(opts.outDir, { recursive: true });
    const model = path.join(opts.outDir, 'model.gguf');
    const mmproj = path.join(opts.outDir, 'mmproj.gguf');
    const mmprojBytes = await writePlannedFile(plan.mmproj, mmproj, plan.seed, opts.onProgress);
    const modelBytes = await writePlannedFile(plan.model, model, plan.seed, opts.onProgress);
    return {
        model,
        mmproj,
        modelBytes,
        mmprojBytes,
        modelParameters: planParameterCount(plan.model),
        mmprojParameters: planParameterCount(plan.mmproj),
        ms: performance.now() - t0,
    };
}
