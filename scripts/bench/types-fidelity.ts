// The fidelity part of `npm run bench:types` (scripts/bench/types.ts): what each text-model weight type, mmproj
// type and KV-cache type costs against F32, on the reference checks' tiny checkpoints that transformers itself
// makes (scripts/reference/make_fixtures.py, .cache/hf-fixtures). Each type is converted by our converter
// (f32 / f16 / q8_0), quantized from the F16 file by our quantizer (q4_0 / q4_k_m, lib/tools/quantize.ts), or
// for BF16 re-encoded from the F32 file (neither path writes BF16). Then, per configuration, on a few photo-like
// pictures and the default policy, as LlavaGuard.score() runs them (chat format, image pipeline, recipe, option
// scorer): the logits of the first answer token, and P(Unsafe) at the rating position; for the mmproj types also
// the image embeddings (relative L2 against the F32 and F16 mmproj). One configuration is checked against
// LlavaGuard.score() itself, so the reconstruction here is score mode and not an imitation of it.
//
// Tiny random models are no stand-in for the real weights: 2 text layers of width 128 and 3 vision layers of width
// 64 with Gaussian weights accumulate less error than 24-28 layers, and have none of the outlier channels that make
// real LLMs hard to quantize at 4 bits. Read the figures as an ordering of the types, not as the real models' loss.

import { spawnSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';

import { convertHfModel, type OutType } from '../../gguf/convert/index.js';
import { readGgufFile, readTensorData } from '../../gguf/reader.js';
import { GgmlType, GgufType } from '../../gguf/types.js';
import { GgufWriter } from '../../gguf/writer.js';
import { selectChatFormatFor } from '../../lib/chat/index.js';
import { OptionScorer } from '../../lib/guard/option-scorer.js';
import { GuardRecipes } from '../../lib/guard/recipe.js';
import { scoreVerdict } from '../../lib/guard/score-verdict.js';
import { LlavaGuard } from '../../lib/guard/LlavaGuard.js';
import { loadImage } from '../../lib/image/index.js';
import { ImagePipeline, releasePreparedImage } from '../../lib/pipeline/index.js';
import { Policy } from '../../lib/policy/index.js';
import { VisionModel } from '../../lib/runtime/VisionModel.js';
import { quantizeModel } from '../../lib/tools/quantize.js';
import { log, repoRoot } from './common.js';
import { writePhotoLikePng } from './image.js';
import { tensorTypeCounts } from './lib/tensor-types.js';
import {
    type Family,
    FIDELITY_CONFIGS,
    type FidelityConfig,
    type FidelityResult,
    type FidelityRow,
    type MmprojType,
    REF,
    type TextType,
} from './types-fidelity-configs.js';

/** Pictures of these sizes: several tile counts through the OneVision anyres pipeline, padding for LLaVA-1.5. */
const PICTURES: ReadonlyArray<[number, number]> = [
    [28, 28],
    [64, 48],
    [90, 60],
    [40, 96],
];

const FIXTURES = path.join(repoRoot, '.cache/hf-fixtures');

/** The tiny HF checkpoints, made by transformers (the reference checks' Python venv) when missing. */
function ensureFixtures(families: readonly Family[]): void {
    if (families.every((f) => existsSync(path.join(FIXTURES, f, 'model.safetensors')))) return;
    log('making the tiny HF fixtures with transformers (scripts/reference/make_fixtures.py) ...');
    const py = path.join(repoRoot, '.cache/refvenv/bin/python');
    const run = (cmd: string, args: string[]) => {
        const r = spawnSync(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
        if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    };
    run('bash', ['scripts/reference/setup-venv.sh']);
    run(py, ['scripts/reference/make_fixtures.py', FIXTURES]);
}

/**
 * A BF16 text model from the F32 one: every tensor the F16 conversion stores as F16 becomes BF16 (the same
 * tensors llama.cpp's converter makes BF16 with --outtype bf16), the rest stays F32.
 */
async function writeBf16(f32File: string, f16File: string, out: string): Promise<void> {
    const f32 = await readGgufFile(f32File);
    const f16Types = new Map((await readGgufFile(f16File)).tensors.map((t) => [t.name, t.type]));
    const w = new GgufWriter();
    for (const [k, v] of f32.metadata) {
        if (k === 'general.alignment') continue;
        if (k === 'general.file_type')
            w.addKV(k, GgufType.UINT32, 32); // LLAMA_FTYPE_MOSTLY_BF16
        else if (v.type === GgufType.ARRAY) w.addKV(k, GgufType.ARRAY, v.value, v.elemType);
        else w.addKV(k, v.type, v.value);
    }
    for (const t of f32.tensors) {
        const bf16 = f16Types.get(t.name) === GgmlType.F16 && t.type === GgmlType.F32;
        w.addTensor(t.name, t.dims, bf16 ? GgmlType.BF16 : t.type, async () => {
            const raw = await readTensorData(f32File, t);
            if (!bf16) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
            const aligned = new Uint8Array(raw.byteLength);
            aligned.set(raw);
            return new Float32Array(aligned.buffer);
        });
    }
    await w.write(out);
}

interface FamilyFiles {
    text: Record<TextType, string>;
    mmproj: Record<MmprojType, string>;
}

async function makeFiles(family: Family, work: string, threads: number): Promise<FamilyFiles> {
    const fixture = path.join(FIXTURES, family);
    // made again on every run (about 5 s a family): never a stale conversion after the converter or fixture changed
    const conv: Partial<Record<OutType, { model: string; mmproj: string }>> = {};
    for (const type of ['f32', 'f16', 'q8_0'] as const) {
        const outDir = path.join(work, `${family}-${type}`);
        const model = path.join(outDir, `model-${type}.gguf`);
        const mmproj = path.join(outDir, `mmproj-${type}.gguf`);
        await convertHfModel({ dir: fixture, outDir, type });
        conv[type] = { model, mmproj };
    }
    const bf16 = path.join(work, `${family}-model-bf16.gguf`);
    await writeBf16(conv.f32!.model, conv.f16!.model, bf16);
    const q: Partial<Record<'q4_0' | 'q4_k_m', string>> = {};
    for (const type of ['q4_0', 'q4_k_m'] as const) {
        q[type] = path.join(work, `${family}-model-${type}.gguf`);
        await quantizeModel(conv.f16!.model, q[type]!, type, threads);
    }
    return {
        text: {
            f32: conv.f32!.model,
            f16: conv.f16!.model,
            bf16,
            q8_0: conv.q8_0!.model,
            q4_0: q.q4_0!,
            q4_k_m: q.q4_k_m!,
        },
        mmproj: { f32: conv.f32!.mmproj, f16: conv.f16!.mmproj, q8_0: conv.q8_0!.mmproj },
    };
}

interface Measured {
    logits: Float32Array[];
    pUnsafe: number[];
    /** embeddings of the tile-size pictures */
    embeddings: Float32Array[];
}

/**
 * One configuration: the default policy's prompt with each picture, as LlavaGuard.score() evaluates it (its
 * chat format, image pipeline and recipe; the option scorer at the rating position), in a context with the
 * configuration's KV type and flash attention.
 */
async function measure(
    files: FamilyFiles,
    c: FidelityConfig,
    pictures: string[],
    tiles: string[],
    threads: number,
): Promise<Measured> {
    const model = await VisionModel.load({
        model: files.text[c.text],
        mmproj: files.mmproj[c.mmproj],
        gpuLayers: 0,
        mmprojThreads: threads,
        mmprojFlashAttention: 'off',
    });
    try {
        const selection = selectChatFormatFor(model.info);
        const pipeline = await ImagePipeline.create(model);
        const policy = Policy.default(selection.policyVersion);
        const recipe = new GuardRecipes({
            tokenizer: model,
            format: selection.format,
            imageMarker: model.info.mediaMarker,
        }).for(policy);
        const ctx = await model.createContext({
            contextSize: 4096,
            threads,
            cacheType: c.cache,
            flashAttention: c.flashAttention,
        });
        const out: Measured = { logits: [], pUnsafe: [], embeddings: [] };
        for (const file of pictures) {
            const rgb = await loadImage(file, { maxSide: pipeline.maxDecodeSide });
            const prepared = await pipeline.prepare(rgb, ctx);
            try {
                await ctx.exclusive(async (direct) => {
                    const prefill = await direct.evaluate({
                        prompt: {
                            text: recipe.textParts,
                            images: prepared.images,
                            embeddings: prepared.embeddings,
                            addSpecial: selection.format.addBos,
                        },
                        logits: true,
                    });
                    out.logits.push(Float32Array.from(prefill.logits!));
                    const scorer = new OptionScorer(direct, recipe.answerTokens, {
                        sequence: 0,
                        end: prefill.nPast,
                        logits: prefill.logits!,
                    });
                    out.pUnsafe.push((await scoreVerdict(scorer, policy, undefined)).ratingProbabilities.Unsafe);
                });
            } finally {
                releasePreparedImage(prepared);
            }
        }
        for (const file of tiles) {
            const rgb = await loadImage(file);
            const [e] = await ctx.encodeImages([{ data: rgb.data, width: rgb.width, height: rgb.height }]);
            out.embeddings.push(e!.embeddings);
        }
        await ctx.close();
        return out;
    } finally {
        await model.close();
    }
}

function softmax(x: Float32Array): Float64Array {
    let m = -Infinity;
    for (const v of x) if (v > m) m = v;
    const p = new Float64Array(x.length);
    let s = 0;
    for (let i = 0; i < x.length; i++) s += p[i] = Math.exp(x[i]! - m);
    for (let i = 0; i < x.length; i++) p[i]! /= s;
    return p;
}

function argmax(x: Float32Array): number {
    let k = 0;
    for (let i = 1; i < x.length; i++) if (x[i]! > x[k]!) k = i;
    return k;
}

function relL2(a: Float32Array[], b: Float32Array[]): number {
    let num = 0;
    let den = 0;
    for (const [i, x] of a.entries()) {
        const y = b[i]!;
        if (x.length !== y.length) throw new Error(`embeddings of ${x.length} vs ${y.length} values`);
        for (let j = 0; j < x.length; j++) {
            num += (x[j]! - y[j]!) ** 2;
            den += y[j]! ** 2;
        }
    }
    return Math.sqrt(num / den);
}

function compare(family: Family, c: FidelityConfig, m: Measured, ref: Measured, f16Mmproj?: Measured): FidelityRow {
    let maxAbs = 0;
    let maxRef = 0;
    const kls: number[] = [];
    let agree = 0;
    for (const [i, x] of m.logits.entries()) {
        const r = ref.logits[i]!;
        for (let j = 0; j < x.length; j++) {
            maxAbs = Math.max(maxAbs, Math.abs(x[j]! - r[j]!));
            maxRef = Math.max(maxRef, Math.abs(r[j]!));
        }
        const p = softmax(r);
        const q = softmax(x);
        let kl = 0;
        for (let j = 0; j < p.length; j++) if (p[j]! > 0) kl += p[j]! * Math.log(p[j]! / Math.max(q[j]!, 1e-300));
        kls.push(Math.max(0, kl));
        if (argmax(x) === argmax(r)) agree++;
    }
    const dP = m.pUnsafe.map((p, i) => Math.abs(p - ref.pUnsafe[i]!));
    const mmprojDiffers = c.mmproj !== 'f32';
    return {
        family,
        config: c,
        maxAbsLogitDiff: maxAbs,
        relLogitDiff: maxAbs / maxRef,
        klMax: Math.max(...kls),
        klMean: kls.reduce((a, b) => a + b, 0) / kls.length,
        top1Agree: agree,
        pictures: m.logits.length,
        pUnsafe: m.pUnsafe,
        maxAbsDeltaPUnsafe: Math.max(...dP),
        ...(mmprojDiffers ? { embedRelL2VsF32: relL2(m.embeddings, ref.embeddings) } : {}),
        ...(mmprojDiffers && f16Mmproj && c.mmproj !== 'f16'
            ? { embedRelL2VsF16: relL2(m.embeddings, f16Mmproj.embeddings) }
            : {}),
    };
}

/**
 * LlavaGuard.score() on the first picture with the F32 files, KV F16 and flash attention off (what load gives
 * with those options), against measure() with the same settings: the difference in P(Unsafe).
 */
async function scoreModeCheck(files: FamilyFiles, picture: string, tiles: string[], threads: number): Promise<number> {
    const guard = await LlavaGuard.load({
        model: files.text.f32,
        mmproj: files.mmproj.f32,
        threads,
        flashAttention: 'off',
        mmprojFlashAttention: 'off',
        gpuLayers: 0,
    });
    let theirs: number;
    try {
        theirs = (await guard.score(picture)).unsafeProbability;
    } finally {
        await guard.close();
    }
    const ours = await measure(files, { ...REF, cache: 'f16', label: 'check' }, [picture], tiles.slice(0, 1), threads);
    return Math.abs(ours.pUnsafe[0]! - theirs);
}

/**
 * One thread: the figures do not depend on speed, and on a shared 2-core host two threads of these tiny graphs
 * spend most of their time at ggml's barriers waiting for a descheduled peer (measured under load average 6: a
 * 1.2k-token prefill took 2.7 s with 2 threads, 0.08 s with 1).
 */
const THREADS = 1;

export async function runFidelity(o: { families: Family[]; work: string }): Promise<FidelityResult> {
    ensureFixtures(o.families);
    await fsp.mkdir(o.work, { recursive: true });
    const result: FidelityResult = { rows: [], tensorTypes: {}, scoreModeCheck: {}, fixtures: {} };
    for (const family of o.families) {
        const t0 = performance.now();
        log(`fidelity ${family}: converting / quantizing the tiny fixture ...`);
        const files = await makeFiles(family, o.work, THREADS);
        result.fixtures[family] = path.join(FIXTURES, family);
        result.tensorTypes[family] = {};
        for (const [t, f] of Object.entries(files.text))
            result.tensorTypes[family]![t] = await tensorTypeCounts(f as string);
        const probe = await VisionModel.load({ model: files.text.f32, mmproj: files.mmproj.f32, gpuLayers: 0 });
        const tileSize = probe.vision?.imageSize;
        await probe.close();
        if (!tileSize) throw new Error(`${files.mmproj.f32}: no vision encoder input size`);
        const pictures: string[] = [];
        for (const [i, [w, h]] of PICTURES.entries())
            pictures.push(await writePhotoLikePng(path.join(o.work, `${family}-pic-${w}x${h}.png`), w, h, i + 1));
        const tiles: string[] = [];
        for (let i = 0; i < 3; i++)
            tiles.push(
                await writePhotoLikePng(path.join(o.work, `${family}-tile-${i}.png`), tileSize, tileSize, 11 + i),
            );
        result.scoreModeCheck[family] = await scoreModeCheck(files, pictures[0]!, tiles, THREADS);
        if (!(result.scoreModeCheck[family]! < 1e-4))
            throw new Error(
                `${family}: P(Unsafe) here differs from LlavaGuard.score() by ${result.scoreModeCheck[family]}: the reconstruction of score mode is off`,
            );
        const ref = await measure(files, REF, pictures, tiles, THREADS);
        const f16Mmproj = await measure(
            files,
            FIDELITY_CONFIGS.find((c) => c.group === 'mmproj' && c.mmproj === 'f16')!,
            pictures,
            tiles,
            THREADS,
        );
        for (const c of FIDELITY_CONFIGS) {
            const m = c === REF ? ref : c.group === 'mmproj' && c.mmproj === 'f16' ? f16Mmproj : undefined;
            const row = compare(family, c, m ?? (await measure(files, c, pictures, tiles, THREADS)), ref, f16Mmproj);
            result.rows.push(row);
        }
        log(
            `fidelity ${family}: ${FIDELITY_CONFIGS.length} configurations in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
        );
    }
    return result;
}
