// The speed part of `npm run bench:types` (types.ts, whose header says what is measured and how): llama-bench on
// each text-model and KV-cache type, the mmproj types' encode, one score()'s memory. Apart from the command line.

import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

import { SHAPED_MODELS, type ShapedModelId } from '../../gguf/synthetic/shapes.js';
import { kvCacheBytes, type CacheType } from '../../lib/runtime/validate/kv-cache.js';
import { quantizeModel } from '../../lib/tools/quantize.js';
import { type BenchSettings, load1, log, mustRunChild, repoRoot } from './common.js';
import { writePhotoLikePng } from './image.js';
import { ensurePair, ensureQ8Pair } from './lib/bench-pairs.js';
import { tensorTypeCounts } from './lib/tensor-types.js';
import { rowTokS, runLlamaBench, type LlamaBenchRow } from './llama-bench.js';
import { guardSpec } from './modes.js';
import type { GuardResult } from './run-guard.js';
import type { TypesEncodeResult, TypesEncodeSpec } from './types-encode.js';

const SHAPES: ShapedModelId = 'llavaguard-v1.2-0.5b';

/** One llama-bench configuration, measured once per round (rounds interleave the configurations). */
interface BenchCell {
    label: string;
    file: string;
    args: string[];
    pp: number[];
    tg: number[];
    peakRssMiB: number[];
}

interface TextSpeed {
    type: string;
    file: string;
    fileMiB: number;
    tensorTypes: Record<string, number>;
    repack: Repack;
    pp: number[];
    tg: number[];
    /** llama-bench's process: the text model and a KV cache of -p + -n cells */
    peakRssMiB: number;
}

/** One LlavaGuard.score() in a fresh process (run-guard.ts). */
interface ScoreRun {
    text: string;
    mmproj: string;
    peakRssMiB: number;
    baseRssMiB: number;
    encodeMs: number;
    promptTokens: number;
    imageTokens: number;
    promptMs: number;
    wallMs: number;
}

export interface SpeedResult {
    model: string;
    settings: { threads: number; ubatch: number; rounds: number; p: number; n: number };
    text: TextSpeed[];
    kv: Array<{ k: string; v: string; flashAttention: 0 | 1; pp: number[]; tg: number[] }>;
    kvMiB: Array<{ shapes: string; cells: number; bytesPerCell: Record<string, number>; mib: Record<string, number> }>;
    mmproj: Array<{ type: string; fileMiB: number; encodeMs: number[]; embedRelL2VsF16?: number }>;
    imageTokens: number;
    score: ScoreRun[];
}

export const P = 512;
export const N = 32;

interface Repack {
    /** the CPU_REPACK buffer (0 when llama.cpp repacked nothing) */
    mib: number;
    tensors: number;
    /** the interleaved layouts used, e.g. q4_0_8x8 */
    layouts: string[];
}

/** What llama.cpp's load log (llama-bench -v) says it repacked for this CPU. */
function repackOf(bin: string, model: string, threads: number): Promise<Repack> {
    return new Promise((resolve, reject) => {
        execFile(
            bin,
            ['-m', model, '-p', '0', '-n', '1', '-r', '1', '-t', String(threads), '-v'],
            { maxBuffer: 64 << 20 },
            (err, _stdout, stderr) => {
                if (err) return reject(new Error(`llama-bench -v on ${model}: ${err.message}\n${stderr.slice(-2000)}`));
                if (!/model buffer size/.test(stderr))
                    return reject(new Error(`llama-bench -v printed no model buffer sizes:\n${stderr.slice(-2000)}`));
                const m = /CPU_REPACK model buffer size =\s*([\d.]+) MiB/.exec(stderr);
                const layouts = [...stderr.matchAll(/repack: repack tensor \S+ with (\S+)/g)].map((x) => x[1]!);
                resolve({ mib: m ? Number(m[1]) : 0, tensors: layouts.length, layouts: [...new Set(layouts)] });
            },
        );
    });
}

export interface SpeedOptions {
    /** llama-bench */
    bin: string;
    /** where the models are written once and reused */
    models: string;
    threads: number;
    rounds: number;
    ubatch: number;
}

export async function speed({ bin, models, threads, rounds, ubatch }: SpeedOptions): Promise<SpeedResult> {
    if (!existsSync(bin))
        throw new Error(`${bin} is missing: build llama.cpp's tools (LLAVAGUARD_BUILD_TOOLS=1 npm ci)`);
    const q8 = await ensurePair(models, SHAPES, 'q8_0');
    const f16 = await ensurePair(models, SHAPES, 'f16');
    const bf16 = await ensurePair(models, SHAPES, 'bf16');
    const quantized = async (t: 'q4_0' | 'q4_k_m') => {
        const f = path.join(path.dirname(f16.model), `model-${t}.gguf`);
        if (!existsSync(f)) {
            log(`quantizing ${f16.model} to ${t} (lib/tools/quantize.ts) ...`);
            await quantizeModel(f16.model, f, t, threads);
        }
        return f;
    };
    const mmprojQ8 = (await ensureQ8Pair(models, SHAPES)).mmproj;
    const texts: Array<{ type: string; file: string }> = [
        { type: 'F16', file: f16.model },
        { type: 'BF16', file: bf16.model },
        { type: 'Q8_0', file: q8.model },
        { type: 'Q4_0', file: await quantized('q4_0') },
        { type: 'Q4_K_M', file: await quantized('q4_k_m') },
    ];
    const image = await writePhotoLikePng(path.join(models, 'bench-photo-384.png'));

    const repacks: Repack[] = [];
    for (const t of texts) {
        log(`speed: ${t.type}: what llama.cpp repacks (llama-bench -v) ...`);
        repacks.push(await repackOf(bin, t.file, threads));
    }

    // Each configuration once per round, the rounds one after another: on a shared host a burst of other work
    // then lands on one repetition of several configurations, not on all repetitions of one.
    const common = ['-t', String(threads), '-ub', String(ubatch), '-r', '1', '-p', String(P), '-n', String(N)];
    const cells: BenchCell[] = [
        ...texts.map((t) => ({ label: t.type, file: t.file, args: ['-fa', '0'], pp: [], tg: [], peakRssMiB: [] })),
        // KV cache types on the Q8_0 model: K alone quantized runs without flash attention, a quantized V needs it
        ...(
            [
                ['q8_0', 'f16', '0'],
                ['f16', 'f16', '1'],
                ['q8_0', 'q8_0', '1'],
            ] as const
        ).map(([k, v, fa]) => ({
            label: `KV ${k}/${v} FA ${fa}`,
            file: q8.model,
            args: ['-fa', fa, '-ctk', k, '-ctv', v],
            pp: [],
            tg: [],
            peakRssMiB: [],
        })),
    ];
    const pick = (rows: LlamaBenchRow[], prompt: boolean) =>
        rows.find((r) => (prompt ? r.n_prompt > 0 && r.n_gen === 0 : r.n_gen > 0 && r.n_prompt === 0));
    for (let round = 1; round <= rounds; round++) {
        for (const c of cells) {
            log(
                `speed: round ${round}/${rounds}: ${c.label}: llama-bench -p ${P} -n ${N} (load ${load1().toFixed(1)}) ...`,
            );
            const b = await runLlamaBench(bin, ['-m', c.file, ...c.args, ...common]);
            c.pp.push(rowTokS(pick(b.rows, true)!));
            c.tg.push(rowTokS(pick(b.rows, false)!));
            c.peakRssMiB.push(b.peakRssMiB);
        }
    }
    const text: TextSpeed[] = [];
    for (const [i, t] of texts.entries()) {
        const c = cells[i]!;
        text.push({
            type: t.type,
            file: t.file,
            fileMiB: statSync(t.file).size / 2 ** 20,
            tensorTypes: await tensorTypeCounts(t.file),
            repack: repacks[i]!,
            pp: c.pp,
            tg: c.tg,
            peakRssMiB: Math.max(...c.peakRssMiB),
        });
    }
    const q8Cell = cells[texts.findIndex((t) => t.type === 'Q8_0')]!;
    const kv: SpeedResult['kv'] = [
        { k: 'f16', v: 'f16', flashAttention: 0, pp: q8Cell.pp, tg: q8Cell.tg },
        ...cells.slice(texts.length).map((c) => ({
            k: c.args[3]!,
            v: c.args[5]!,
            flashAttention: (c.args[1] === '1' ? 1 : 0) as 0 | 1,
            pp: c.pp,
            tg: c.tg,
        })),
    ];
    const kvCells = 8192;
    const kvMiB = (['llavaguard-v1.2-0.5b', 'llavaguard-v1.2-7b', 'llavaguard-v1.1-7b'] as const).map((id) => {
        const t = SHAPED_MODELS[id].text;
        const head = t.nEmbd / t.nHead;
        const shape = { nLayer: t.nLayer, nEmbdK: head * t.nHeadKv, nEmbdV: head * t.nHeadKv };
        const types: Array<[string, CacheType, CacheType]> = [
            ['f16/f16', 'f16', 'f16'],
            ['q8_0/f16', 'q8_0', 'f16'],
            ['q8_0/q8_0', 'q8_0', 'q8_0'],
        ];
        const bytes = (contextSize: number, k: CacheType, v: CacheType) =>
            kvCacheBytes(shape, { contextSize, cacheTypeK: k, cacheTypeV: v });
        return {
            shapes: id,
            cells: kvCells,
            bytesPerCell: Object.fromEntries(types.map(([n, k, v]) => [n, bytes(256, k, v) / 256])),
            mib: Object.fromEntries(types.map(([n, k, v]) => [n, bytes(kvCells, k, v) / 2 ** 20])),
        };
    });

    log('speed: mmproj F16 / Q8_0: encode one tile (types-encode.ts) ...');
    const enc = await mustRunChild<TypesEncodeResult>('types-encode.ts', {
        model: q8.model,
        mmprojs: { F16: q8.mmproj, Q8_0: mmprojQ8 },
        image,
        threads,
        repeat: Math.max(2, rounds),
    } satisfies TypesEncodeSpec);
    const mmproj: SpeedResult['mmproj'] = [
        { type: 'F16', fileMiB: statSync(q8.mmproj).size / 2 ** 20, encodeMs: enc.encodeMs.F16! },
        {
            type: 'Q8_0',
            fileMiB: statSync(mmprojQ8).size / 2 ** 20,
            encodeMs: enc.encodeMs.Q8_0!,
            embedRelL2VsF16: enc.embedRelL2.Q8_0,
        },
    ];

    // the memory of one whole assessment: the Q8_0 text model with each mmproj (the text types' differences are
    // llama-bench's peak RSS above)
    const settings: BenchSettings = {
        threads,
        ctx: 4096,
        batch: 2048,
        ubatch,
        temp: 0,
        topK: 1,
        topP: 1,
        seed: 1,
        maxTokens: 500,
        rationaleChars: 160,
        layoutTokens: 'canonical',
        runs: 1,
        cli: path.join(repoRoot, 'build/bin/llama-mtmd-cli'),
        llamaBench: bin,
    };
    const score: ScoreRun[] = [];
    for (const [mmType, mmFile] of [
        ['F16', q8.mmproj],
        ['Q8_0', mmprojQ8],
    ] as const) {
        log(`speed: Q8_0 text + ${mmType} mmproj: one score() in a fresh process (run-guard.ts) ...`);
        const g = await mustRunChild<GuardResult>(
            'run-guard.ts',
            guardSpec(settings, { model: q8.model, mmproj: mmFile }, 'score', [image]),
        );
        const call = g.calls[0]!;
        score.push({
            text: 'Q8_0',
            mmproj: mmType,
            peakRssMiB: g.peakRssMiB,
            baseRssMiB: g.baseRssMiB,
            encodeMs: call.imageMs,
            promptTokens: call.promptTokens,
            imageTokens: call.imageTokens,
            promptMs: call.promptMs,
            wallMs: call.wallMs,
        });
    }
    return {
        model: SHAPES,
        settings: { threads, ubatch, rounds, p: P, n: N },
        text,
        kv,
        kvMiB,
        mmproj,
        imageTokens: enc.imageTokens,
        score,
    };
}
