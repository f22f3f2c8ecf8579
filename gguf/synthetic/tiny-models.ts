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

import { clipVision, llamaText, qwen2Text, siglipVision, type TinyFamily, type TinyFamilySpec } from './dims.js';
import { planLlavaPair } from './llava-pair.js';
import { writePlannedFile } from './plan.js';
import { CHATML_CHAT_TEMPLATE, VICUNA_CHAT_TEMPLATE, makeBpeVocab, makeSpmVocab } from './tiny-vocab.js';

export type { TinyFamily, TinyFamilySpec, TinyTextDims, TinyVisionDims } from './dims.js';
export { makeRng } from './rng.js';

export type TinyWeightType = 'f32' | 'f16' | 'q8_0';

/** Bump when the generated files change, so cachedTestModel regenerates stale caches. */
export const TINY_MODEL_GENERATOR_VERSION = 5;

export const TINY_FAMILIES: Record<TinyFamily, TinyFamilySpec> = {
    llava15: {
        family: 'llava15',
        text: llamaText({ nEmbd: 128, nHead: 2, nHeadKv: 2, nFf: 256, nLayer: 2 }),
        vision: clipVision({
            imageSize: 32,
            patchSize: 8,
            nEmbd: 64,
            nHead: 1,
            nFf: 128,
            nLayer: 3,
            projectionDim: 128,
        }),
    },
    onevision: {
        family: 'onevision',
        text: qwen2Text({ nEmbd: 192, nHead: 3, nHeadKv: 1, nFf: 256, nLayer: 2 }),
        vision: {
            ...siglipVision({
                imageSize: 28,
                patchSize: 7,
                nEmbd: 64,
                nHead: 1,
                nFf: 128,
                nLayer: 3,
                projectionDim: 192,
            }),
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

function planTinyModel(spec: TinyFamilySpec, seed: number, weightType: TinyWeightType) {
    const { family } = spec;
    const spm = family === 'llava15';
    return planLlavaPair({
        ...spec,
        vocab: spm ? makeSpmVocab() : makeBpeVocab(),
        chatTemplate: spm ? VICUNA_CHAT_TEMPLATE : CHATML_CHAT_TEMPLATE,
        // std 0.1 for the output projection (tied or not) gives logits of std ~1
        embeddingStd: 0.1,
        legacyFfnNames: false,
        weightType,
        mmprojWeightType: weightType,
        seed,
        generatorVersion: TINY_MODEL_GENERATOR_VERSION,
        identity: (what) => ({
            name: `llavaguard-tiny-${family}${what === 'mmproj' ? '-mmproj' : ''}`,
            description: `Random-weight ${family} ${what} for llavaguard tests (seed ${seed}, ${weightType}); not a real model`,
            quantizationVersion: weightType === 'q8_0',
        }),
    });
}

export interface MakeTestModelOptions {
    family: TinyFamily;
    outDir: string;
    seed?: number;
    weightType?: TinyWeightType;
    /** blocks of the vision tower instead of the family's (a deep tower at a tiny width, for graph-size limits) */
    visionLayers?: number;
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
    const { family, outDir, seed = 0, weightType = 'f16', visionLayers } = opts;
    const base = TINY_FAMILIES[family];
    if (!base) throw new TypeError(`unknown tiny model family '${String(family)}'`);
    if (visionLayers !== undefined && (!Number.isInteger(visionLayers) || visionLayers < 2 || visionLayers > 64))
        throw new RangeError(`visionLayers must be a whole number in 2-64, got ${visionLayers}`);
    const spec = visionLayers ? { ...base, vision: { ...base.vision, nLayer: visionLayers } } : base;
    if (!['f32', 'f16', 'q8_0'].includes(weightType)) throw new TypeError(`unknown weight type '${weightType}'`);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
        throw new RangeError(`seed must be a u32, got ${seed}`);
    await fsp.mkdir(outDir, { recursive: true });
    const model = path.join(outDir, 'model.gguf');
    const mmproj = path.join(outDir, 'mmproj.gguf');
    const plan = planTinyModel(spec, seed, weightType);
    const b1 = await writePlannedFile(plan.model, model, seed);
    const b2 = await writePlannedFile(plan.mmproj, mmproj, seed);
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
