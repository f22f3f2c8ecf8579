// Tiny, deterministic, random-weight LlavaGuard-shaped model pairs (text model + mmproj) that
// real llama.cpp loads and runs. Two families mirror the LlavaGuard lines:
//   llava15   - LLaVA-1.5 (LlavaGuard v1.1/v1.2 7B/13B): llama text model, SPM vocab, Vicuna chat,
//               CLIP-like tower (class embedding, pre-layernorm, quick-GELU), mlp projector.
//   onevision - LLaVA-OneVision (LlavaGuard v1.2 0.5B/7B OV): qwen2 text model with q/k/v biases,
//               byte-level BPE vocab, ChatML, SigLIP-like tower (no class embedding, GELU,
//               mean/std 0.5, patch bias), mlp projector with anyres image_grid_pinpoints.

import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
    CHATML_CHAT_TEMPLATE,
    VICUNA_CHAT_TEMPLATE,
    makeBpeVocab,
    makeSpmVocab,
    type TinyVocab,
} from './tiny-vocab.js';
import { addTextModelTensors } from './tensors.js';
import { GgmlType, GgufType } from '../types.js';
import { GgufWriter } from '../writer.js';

export type TinyFamily = 'llava15' | 'onevision';
export type TinyWeightType = 'f32' | 'f16' | 'q8_0';

/** Bump when the generated files change, so cachedTestModel regenerates stale caches. */
export const TINY_MODEL_GENERATOR_VERSION = 4;

export interface TinyTextDims {
    arch: 'llama' | 'qwen2';
    nEmbd: number;
    nHead: number;
    nHeadKv: number;
    nFf: number;
    nLayer: number;
    contextLength: number;
    rmsEps: number;
    ropeFreqBase: number;
    qkvBias: boolean;
    /** no output.weight: the output projection reuses token_embd (Qwen2-0.5B does this, Vicuna-7B not) */
    tiedEmbeddings: boolean;
}

export interface TinyVisionDims {
    imageSize: number;
    patchSize: number;
    nEmbd: number;
    nHead: number;
    nFf: number;
    /** blocks in the file; llama.cpp's llava graph runs nLayer - 1 of them */
    nLayer: number;
    projectionDim: number;
    eps: number;
    useGelu: boolean;
    classEmbedding: boolean;
    preLayerNorm: boolean;
    patchBias: boolean;
    imageMean: [number, number, number];
    imageStd: [number, number, number];
    /** flattened [w, h, w, h, ...] or undefined */
    gridPinpoints?: number[];
    /** anyres_max_N of a OneVision-like model (written as llavaguard.vision_aspect_ratio, as our converter does). */
    anyresMax?: number;
    /** A `v.image_newline` row separator (OneVision / LLaVA-1.6). */
    imageNewline?: boolean;
}

export interface TinyFamilySpec {
    family: TinyFamily;
    text: TinyTextDims;
    vision: TinyVisionDims;
}

export const TINY_FAMILIES: Record<TinyFamily, TinyFamilySpec> = {
    llava15: {
        family: 'llava15',
        text: {
            arch: 'llama',
            nEmbd: 128,
            nHead: 2,
            nHeadKv: 2,
            nFf: 256,
            nLayer: 2,
            contextLength: 4096,
            rmsEps: 1e-5,
            ropeFreqBase: 10000,
            qkvBias: false,
            tiedEmbeddings: false,
        },
        vision: {
            imageSize: 32,
            patchSize: 8,
            nEmbd: 64,
            nHead: 1,
            nFf: 128,
            nLayer: 3,
            projectionDim: 128,
            eps: 1e-5,
            useGelu: false,
            classEmbedding: true,
            preLayerNorm: true,
            patchBias: false,
            imageMean: [0.48145466, 0.4578275, 0.40821073],
            imageStd: [0.26862954, 0.26130258, 0.27577711],
        },
    },
    onevision: {
        family: 'onevision',
        text: {
            arch: 'qwen2',
            nEmbd: 192,
            nHead: 3,
            nHeadKv: 1,
            nFf: 256,
            nLayer: 2,
            contextLength: 32768,
            rmsEps: 1e-6,
            ropeFreqBase: 1000000,
            qkvBias: true,
            tiedEmbeddings: true,
        },
        vision: {
            imageSize: 28,
            patchSize: 7,
            nEmbd: 64,
            nHead: 1,
            nFf: 128,
            nLayer: 3,
            projectionDim: 192,
            eps: 1e-6,
            useGelu: true,
            classEmbedding: false,
            preLayerNorm: false,
            patchBias: true,
            imageMean: [0.5, 0.5, 0.5],
            imageStd: [0.5, 0.5, 0.5],
            gridPinpoints: [28, 28, 28, 56, 56, 28, 56, 56],
            // small enough that a 2x2 grid is downsampled, as a large photo is on the real model (anyres_max_9)
            anyresMax: 2,
            imageNewline: true,
        },
    },
};

/** Image tokens one tile produces ((image_size / patch_size)^2). */
export function tinyImageTokensPerTile(family: TinyFamily): number {
    const v = TINY_FAMILIES[family].vision;
    return (v.imageSize / v.patchSize) ** 2;
}

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG: splitmix32-seeded sfc32, one independent stream per (seed, tensor name).
// Only integer arithmetic and one multiply per value, so the output is identical everywhere.

function fnv1a(s: string): number {
    let h = 0x811c9dc5;
    for (const b of Buffer.from(s, 'utf8')) {
        h ^= b;
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
}

function splitmix32(state: number): () => number {
    let s = state >>> 0;
    return () => {
        s = (s + 0x9e3779b9) >>> 0;
        let z = s;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        return (z ^ (z >>> 16)) >>> 0;
    };
}

export function makeRng(seed: number, stream: string): () => number {
    const sm = splitmix32((Math.imul(seed >>> 0, 0x9e3779b1) ^ fnv1a(stream)) >>> 0);
    let a = sm();
    let b = sm();
    let c = sm();
    let d = sm();
    const next = (): number => {
        const t = (((a + b) >>> 0) + d) >>> 0;
        d = (d + 1) >>> 0;
        a = (b ^ (b >>> 9)) >>> 0;
        b = (c + (c << 3)) >>> 0;
        c = ((c << 21) | (c >>> 11)) >>> 0;
        c = (c + t) >>> 0;
        return t;
    };
    for (let i = 0; i < 12; i++) next();
    return next;
}

/** n values uniform in [-std*sqrt(3), std*sqrt(3)) (so their standard deviation is std) + mean. */
function uniform(seed: number, name: string, n: number, std: number, mean = 0): Float32Array {
    const rng = makeRng(seed, name);
    const a = std * Math.sqrt(3);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + a * ((rng() / 4294967296) * 2 - 1);
    return out;
}

function filled(n: number, v: number): Float32Array {
    return new Float32Array(n).fill(v);
}

// ---------------------------------------------------------------------------------------------

const FILE_TYPE: Record<TinyWeightType, number> = { f32: 0, f16: 1, q8_0: 7 }; // llama_ftype

interface TypePlan {
    /** 2-D weight matrices (rows a multiple of 32) */
    matrix: number;
    /** convolution kernel / embeddings kept at higher precision, as real quantizers do */
    conv: number;
}

function typePlan(w: TinyWeightType): TypePlan {
    switch (w) {
        case 'f32':
            return { matrix: GgmlType.F32, conv: GgmlType.F32 };
        case 'f16':
            return { matrix: GgmlType.F16, conv: GgmlType.F16 };
        case 'q8_0':
            return { matrix: GgmlType.Q8_0, conv: GgmlType.F16 };
    }
}

function commonMeta(
    w: GgufWriter,
    family: TinyFamily,
    arch: string,
    what: string,
    weightType: TinyWeightType,
    seed: number,
) {
    w.addString('general.architecture', arch);
    w.addString('general.type', what === 'mmproj' ? 'mmproj' : 'model');
    w.addString('general.name', `llavaguard-tiny-${family}${what === 'mmproj' ? '-mmproj' : ''}`);
    w.addString(
        'general.description',
        `Random-weight ${family} ${what} for llavaguard tests (seed ${seed}, ${weightType}); not a real model`,
    );
    w.addU32('general.file_type', FILE_TYPE[weightType]);
    if (weightType === 'q8_0') w.addU32('general.quantization_version', 2);
    w.addString('llavaguard.family', family);
    w.addBool('llavaguard.test_model', true);
    w.addU32('llavaguard.test_model.seed', seed >>> 0);
    w.addU32('llavaguard.test_model.generator_version', TINY_MODEL_GENERATOR_VERSION);
}

function addVocab(w: GgufWriter, v: TinyVocab, family: TinyFamily): void {
    const spm = family === 'llava15';
    w.addString('tokenizer.ggml.model', spm ? 'llama' : 'gpt2');
    w.addString('tokenizer.ggml.pre', spm ? 'default' : 'qwen2');
    w.addArray('tokenizer.ggml.tokens', GgufType.STRING, v.tokens);
    if (v.scores) w.addArray('tokenizer.ggml.scores', GgufType.FLOAT32, v.scores);
    w.addArray('tokenizer.ggml.token_type', GgufType.INT32, v.tokenTypes);
    if (v.merges) w.addArray('tokenizer.ggml.merges', GgufType.STRING, v.merges);
    w.addU32('tokenizer.ggml.bos_token_id', v.bosId);
    w.addU32('tokenizer.ggml.eos_token_id', v.eosId);
    if (v.unkId !== undefined) w.addU32('tokenizer.ggml.unknown_token_id', v.unkId);
    w.addU32('tokenizer.ggml.padding_token_id', v.padId);
    w.addBool('tokenizer.ggml.add_bos_token', spm);
    w.addBool('tokenizer.ggml.add_eos_token', false);
    w.addString('tokenizer.chat_template', spm ? VICUNA_CHAT_TEMPLATE : CHATML_CHAT_TEMPLATE);
}

function buildTextModel(spec: TinyFamilySpec, seed: number, weightType: TinyWeightType): GgufWriter {
    const t = spec.text;
    const plan = typePlan(weightType);
    const vocab = spec.family === 'llava15' ? makeSpmVocab() : makeBpeVocab();
    const nVocab = vocab.tokens.length;
    const headDim = t.nEmbd / t.nHead;
    const w = new GgufWriter();
    commonMeta(w, spec.family, t.arch, 'model', weightType, seed);
    const a = t.arch;
    w.addU32(`${a}.context_length`, t.contextLength);
    w.addU32(`${a}.embedding_length`, t.nEmbd);
    w.addU32(`${a}.block_count`, t.nLayer);
    w.addU32(`${a}.feed_forward_length`, t.nFf);
    w.addU32(`${a}.attention.head_count`, t.nHead);
    w.addU32(`${a}.attention.head_count_kv`, t.nHeadKv);
    w.addF32(`${a}.attention.layer_norm_rms_epsilon`, t.rmsEps);
    w.addU32(`${a}.rope.dimension_count`, headDim);
    w.addF32(`${a}.rope.freq_base`, t.ropeFreqBase);
    w.addU32(`${a}.vocab_size`, nVocab);
    addVocab(w, vocab, spec.family);

    const mat = (name: string, cols: number, rows: number, std: number) =>
        w.addTensor(name, [cols, rows], plan.matrix, uniform(seed, name, cols * rows, std));
    const vec = (name: string, n: number, std: number, mean = 0) =>
        w.addTensor(name, [n], GgmlType.F32, std === 0 ? filled(n, mean) : uniform(seed, name, n, std, mean));

    // std 0.1 for the output projection (tied or not) gives logits of std ~1
    addTextModelTensors(t, nVocab, 0.1, mat, vec);
    return w;
}

function buildMmproj(spec: TinyFamilySpec, seed: number, weightType: TinyWeightType): GgufWriter {
    const v = spec.vision;
    const nOut = spec.text.nEmbd;
    const plan = typePlan(weightType);
    const w = new GgufWriter();
    commonMeta(w, spec.family, 'clip', 'mmproj', weightType, seed);
    w.addBool('clip.has_vision_encoder', true);
    w.addBool('clip.has_text_encoder', false);
    w.addBool('clip.has_llava_projector', true);
    w.addString('clip.projector_type', 'mlp');
    w.addBool('clip.use_gelu', v.useGelu);
    w.addU32('clip.vision.image_size', v.imageSize);
    w.addU32('clip.vision.patch_size', v.patchSize);
    w.addU32('clip.vision.embedding_length', v.nEmbd);
    w.addU32('clip.vision.feed_forward_length', v.nFf);
    w.addU32('clip.vision.block_count', v.nLayer);
    w.addU32('clip.vision.projection_dim', v.projectionDim);
    w.addU32('clip.vision.attention.head_count', v.nHead);
    w.addF32('clip.vision.attention.layer_norm_epsilon', v.eps);
    w.addArray('clip.vision.image_mean', GgufType.FLOAT32, v.imageMean);
    w.addArray('clip.vision.image_std', GgufType.FLOAT32, v.imageStd);
    if (v.gridPinpoints) w.addArray('clip.vision.image_grid_pinpoints', GgufType.INT32, v.gridPinpoints);
    if (v.anyresMax) w.addString('llavaguard.vision_aspect_ratio', `anyres_max_${v.anyresMax}`);

    const mat = (name: string, cols: number, rows: number, std: number) =>
        w.addTensor(name, [cols, rows], plan.matrix, uniform(seed, name, cols * rows, std));
    const vec = (name: string, n: number, std: number, mean = 0) =>
        w.addTensor(name, [n], GgmlType.F32, std === 0 ? filled(n, mean) : uniform(seed, name, n, std, mean));

    const E = v.nEmbd;
    const P = v.patchSize;
    const nPatches = (v.imageSize / P) ** 2;
    const nPos = nPatches + (v.classEmbedding ? 1 : 0);
    // conv kernel [P, P, 3, E]; normalised pixels are O(1), so std 1/sqrt(fan_in) keeps patches O(1)
    w.addTensor(
        'v.patch_embd.weight',
        [P, P, 3, E],
        plan.conv,
        uniform(seed, 'v.patch_embd.weight', P * P * 3 * E, 1 / Math.sqrt(P * P * 3)),
    );
    if (v.patchBias) vec('v.patch_embd.bias', E, 0.02);
    if (v.classEmbedding) vec('v.class_embd', E, 0.1);
    w.addTensor('v.position_embd.weight', [E, nPos], plan.conv, uniform(seed, 'v.position_embd.weight', E * nPos, 0.1));
    if (v.preLayerNorm) {
        vec('v.pre_ln.weight', E, 0, 1);
        vec('v.pre_ln.bias', E, 0, 0);
    }
    const sE = 1 / Math.sqrt(E);
    const sF = 1 / Math.sqrt(v.nFf);
    for (let i = 0; i < v.nLayer; i++) {
        const p = `v.blk.${i}`;
        vec(`${p}.ln1.weight`, E, 0, 1);
        vec(`${p}.ln1.bias`, E, 0, 0);
        for (const n of ['attn_q', 'attn_k', 'attn_v', 'attn_out']) {
            mat(`${p}.${n}.weight`, E, E, sE);
            vec(`${p}.${n}.bias`, E, 0.02);
        }
        vec(`${p}.ln2.weight`, E, 0, 1);
        vec(`${p}.ln2.bias`, E, 0, 0);
        mat(`${p}.ffn_up.weight`, E, v.nFf, sE);
        vec(`${p}.ffn_up.bias`, v.nFf, 0.02);
        mat(`${p}.ffn_down.weight`, v.nFf, E, sF);
        vec(`${p}.ffn_down.bias`, E, 0.02);
    }
    // LLaVA projector: mm.0 [E -> D], GELU, mm.2 [D -> D]; D = the text model's n_embd
    mat('mm.0.weight', E, nOut, sE);
    vec('mm.0.bias', nOut, 0.02);
    mat('mm.2.weight', nOut, nOut, 1 / Math.sqrt(nOut));
    vec('mm.2.bias', nOut, 0.02);
    if (v.imageNewline) vec('v.image_newline', nOut, 0.5);
    return w;
}

export interface MakeTestModelOptions {
    family: TinyFamily;
    outDir: string;
    seed?: number;
    weightType?: TinyWeightType;
}

export interface TestModelPaths {
    model: string;
    mmproj: string;
}

/**
 * Writes `outDir/model.gguf` and `outDir/mmproj.gguf` (creating outDir). Same options => the
 * same bytes. Each file goes through `<name>.tmp` + rename.
 */
export async function makeTestModel(opts: MakeTestModelOptions): Promise<TestModelPaths & { bytes: number }> {
    const { family, outDir, seed = 0, weightType = 'f16' } = opts;
    const spec = TINY_FAMILIES[family];
    if (!spec) throw new TypeError(`unknown tiny model family '${String(family)}'`);
    if (!['f32', 'f16', 'q8_0'].includes(weightType)) throw new TypeError(`unknown weight type '${weightType}'`);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
        throw new RangeError(`seed must be a u32, got ${seed}`);
    await fsp.mkdir(outDir, { recursive: true });
    const model = path.join(outDir, 'model.gguf');
    const mmproj = path.join(outDir, 'mmproj.gguf');
    const b1 = await buildTextModel(spec, seed, weightType).write(model);
    const b2 = await buildMmproj(spec, seed, weightType).write(mmproj);
    return { model, mmproj, bytes: b1 + b2 };
}

/** The cache folder cachedTestModel uses for these options. */
export function testModelCacheDir(
    family: TinyFamily,
    opts: { seed?: number; weightType?: TinyWeightType } = {},
): string {
    const base = process.env.LLAVAGUARD_CACHE || path.join(os.tmpdir(), 'llavaguard-test-models');
    return path.join(base, `${family}-${opts.seed ?? 0}-${opts.weightType ?? 'f16'}`);
}

/**
 * Returns a tiny model pair from the cache, making it first if needed. Safe against concurrent
 * callers: the pair is made in a private staging folder and renamed in; a marker naming the
 * generator version is written last.
 */
export function cachedTestModel(
    family: TinyFamily,
    opts: { seed?: number; weightType?: TinyWeightType } = {},
): Promise<TestModelPaths> {
    // concurrent callers in one process share one job; other processes are handled by the renames
    const key = testModelCacheDir(family, opts);
    let job = inFlight.get(key);
    if (!job) {
        job = cachedTestModelImpl(family, opts).finally(() => inFlight.delete(key));
        inFlight.set(key, job);
    }
    return job;
}

const inFlight = new Map<string, Promise<TestModelPaths>>();

async function cachedTestModelImpl(
    family: TinyFamily,
    opts: { seed?: number; weightType?: TinyWeightType },
): Promise<TestModelPaths> {
    const seed = opts.seed ?? 0;
    const weightType = opts.weightType ?? 'f16';
    const dir = testModelCacheDir(family, { seed, weightType });
    const model = path.join(dir, 'model.gguf');
    const mmproj = path.join(dir, 'mmproj.gguf');
    const marker = path.join(dir, 'complete.json');
    // the spec is part of the stamp, so a change of dims invalidates caches even without a version bump
    const spec = createHash('sha256').update(JSON.stringify(TINY_FAMILIES[family])).digest('hex').slice(0, 16);
    const stamp = JSON.stringify({ generator: TINY_MODEL_GENERATOR_VERSION, family, seed, weightType, spec });
    try {
        if ((await fsp.readFile(marker, 'utf8')) === stamp) {
            await Promise.all([fsp.access(model), fsp.access(mmproj)]);
            return { model, mmproj };
        }
    } catch {
        // not cached yet
    }
    await fsp.mkdir(dir, { recursive: true });
    const unique = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const staging = path.join(dir, `.staging-${unique}`);
    try {
        const made = await makeTestModel({ family, outDir: staging, seed, weightType });
        await fsp.rename(made.model, model);
        await fsp.rename(made.mmproj, mmproj);
        await fsp.writeFile(`${marker}.${unique}.tmp`, stamp);
        await fsp.rename(`${marker}.${unique}.tmp`, marker);
    } finally {
        await fsp.rm(staging, { recursive: true, force: true });
    }
    return { model, mmproj };
}
