import type { AttentionProbeCase, NativeAddon } from '../bindings/AddonTypes.js';
import type { FlashAttention } from './types.js';
import { metaValue } from '../../gguf/reader.js';
import type { GgufHeader } from '../../gguf/types.js';

/**
 * Flash attention on the CPU pays on some machines and not on others (BENCHMARKS.md: faster or slower encodes,
 * faster prefill, slower decoding at depth). So when the caller does not choose, we time llama.cpp's own
 * attention kernels, at the model's shapes, with and without it, over the caller's workload (one typical
 * request), and turn it on where it clearly saves time (pickFlashAttention).
 * GPU backends keep llama.cpp's 'auto'.
 */
export interface FlashAttentionChoice {
    value: FlashAttention;
    /**
     * 'option': the caller's; 'gpu': llama.cpp's auto on a GPU backend; 'measured': by the probe below;
     * 'default': off where the GGUF header lacks the shapes or the probe failed; 'auto' with a quantized KV cache.
     */
    source: 'option' | 'gpu' | 'measured' | 'default';
    /** Probe estimate of the attention time of one assessment (all layers), with and without; 'measured' only. */
    msWith?: number;
    msWithout?: number;
}

export interface AttentionShape {
    headDim: number;
    heads: number;
    kvHeads: number;
    layers: number;
}

/** One probe case and how many times an assessment runs it (per layer). */
export interface WeightedCase {
    probe: Omit<AttentionProbeCase, 'flashAttention'>;
    times: number;
}

/** The text model's attention work in one assessment: the prompt in ubatches, then the decode steps at depth. */
export function textWorkload(
    shape: AttentionShape,
    work: { promptTokens: number; generatedTokens: number; ubatch: number },
): WeightedCase[] {
    const base = { headDim: shape.headDim, heads: shape.heads, kvHeads: shape.kvHeads, layout: 'kv-cache' as const };
    const cases: WeightedCase[] = [];
    // At most 16 prefill cases (smaller ubatches are priced as larger pieces: attention cost is about queries x keys either way).
    const step = Math.max(1, Math.floor(work.ubatch), Math.ceil(work.promptTokens / 16));
    for (let done = 0; done < work.promptTokens; done += step) {
        const queries = Math.min(step, work.promptTokens - done);
        cases.push({ probe: { ...base, queries, keys: done + queries }, times: 1 });
    }
    if (work.generatedTokens > 0) {
        cases.push({
            probe: { ...base, queries: 1, keys: work.promptTokens + (work.generatedTokens >> 1) },
            times: work.generatedTokens,
        });
    }
    return cases;
}

/** The vision tower's attention work for one tile. */
export function visionWorkload(shape: AttentionShape, patches: number): WeightedCase[] {
    return [
        {
            probe: {
                headDim: shape.headDim,
                heads: shape.heads,
                kvHeads: shape.heads,
                queries: patches,
                keys: patches,
                layout: 'vision',
            },
            times: 1,
        },
    ];
}

/**
 * 'on' only where it saves at least 5% and 50 ms of attention per assessment; otherwise llama.cpp's long-standing
 * default path. The margin keeps the choice stable between runs where both are close (and for tiny models, whose
 * timings are noise, so that every context of a process decodes the same way).
 */
export function pickFlashAttention(msWith: number, msWithout: number): FlashAttention {
    const saving = msWithout - msWith;
    return saving > Math.max(0.05 * msWithout, MIN_SAVING_MS) ? 'on' : 'off';
}

const MIN_SAVING_MS = 50;

const cache = new Map<string, Promise<FlashAttentionChoice>>();

/** Times the workload both ways (once per process for the same shapes and threads) and picks. */
export function measureFlashAttention(
    addon: NativeAddon,
    shape: AttentionShape,
    workload: WeightedCase[],
    threads: number,
): Promise<FlashAttentionChoice> {
    const key = JSON.stringify({ shape, workload, threads });
    let choice = cache.get(key);
    if (!choice) {
        choice = probe(addon, shape, workload, threads);
        cache.set(key, choice);
        choice.catch(() => cache.delete(key));
    }
    return choice;
}

async function probe(
    addon: NativeAddon,
    shape: AttentionShape,
    workload: WeightedCase[],
    threads: number,
): Promise<FlashAttentionChoice> {
    const cases = workload.flatMap((w) => [
        { ...w.probe, flashAttention: true },
        { ...w.probe, flashAttention: false },
    ]);
    const ms = await addon.probeAttention({ cases, threads, repeats: 3 });
    let msWith = 0;
    let msWithout = 0;
    workload.forEach((w, i) => {
        msWith += ms[2 * i]! * w.times * shape.layers;
        msWithout += ms[2 * i + 1]! * w.times * shape.layers;
    });
    return { value: pickFlashAttention(msWith, msWithout), source: 'measured', msWith, msWithout };
}

/** The choice for a model part: the caller's option, 'auto' on a GPU, else measured. */
export async function resolveFlashAttention(
    option: FlashAttention | undefined,
    gpu: boolean,
    measure: (() => Promise<FlashAttentionChoice>) | undefined,
): Promise<FlashAttentionChoice> {
    if (option !== undefined) return { value: option, source: 'option' };
    if (gpu) return { value: 'auto', source: 'gpu' };
    if (!measure) return { value: 'off', source: 'default' };
    try {
        return await measure();
    } catch {
        return { value: 'off', source: 'default' };
    }
}

function num(header: GgufHeader, key: string): number | undefined {
    const v = metaValue(header, key);
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

/** The text model's attention shape from its GGUF header; undefined where a key is missing. */
export function textAttentionShape(header: GgufHeader): AttentionShape | undefined {
    const arch = metaValue(header, 'general.architecture');
    if (typeof arch !== 'string') return undefined;
    const heads = num(header, `${arch}.attention.head_count`);
    const embd = num(header, `${arch}.embedding_length`);
    const layers = num(header, `${arch}.block_count`);
    if (!heads || !embd || !layers) return undefined;
    const headDim = num(header, `${arch}.attention.key_length`) ?? embd / heads;
    const kvHeads = num(header, `${arch}.attention.head_count_kv`) ?? heads;
    if (!Number.isInteger(headDim) || heads % kvHeads !== 0) return undefined;
    return { headDim, heads, kvHeads, layers };
}

/** The vision tower's attention shape and patches per tile from the mmproj's GGUF header. */
export function visionAttentionShape(header: GgufHeader): { shape: AttentionShape; patches: number } | undefined {
    const heads = num(header, 'clip.vision.attention.head_count');
    const embd = num(header, 'clip.vision.embedding_length');
    const layers = num(header, 'clip.vision.block_count');
    const image = num(header, 'clip.vision.image_size');
    const patch = num(header, 'clip.vision.patch_size');
    if (!heads || !embd || !layers || !image || !patch || embd % heads !== 0) return undefined;
    const side = Math.floor(image / patch);
    const classToken = header.tensors.some((t) => t.name === 'v.class_embd') ? 1 : 0;
    return { shape: { headDim: embd / heads, heads, kvHeads: heads, layers }, patches: side * side + classToken };
}
