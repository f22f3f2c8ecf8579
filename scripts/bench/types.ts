// `npm run bench:types`: weight and KV-cache types by measurement (issue #21 item 3).
//
//   npm run bench:types -- [--speed-only | --fidelity-only] [--json FILE] [--threads 2] [--rounds 2] [--ubatch 128]
//                          [--models /tmp/llavaguard-bench-models] [--work /tmp/llavaguard-bench-types]
//                          [--families onevision,llava15]
//
// Speed, on the shape-faithful 0.5B pair (gguf/synthetic/shapes.ts; random weights run at the real weights' speed):
//   text model F16 / BF16 / Q8_0 (written by the generator) and Q4_0 / Q4_K_M (our quantizer, lib/tools/quantize.ts,
//   from the F16 file): llama-bench -p 512 -n 32 with flash attention off, the library's CPU micro-batch and the
//   given threads, and its process's peak RSS; whether llama.cpp repacked the weights for this CPU (the CPU_REPACK
//   buffer and the layouts in its load log); KV cache F16 / Q8_0 on the Q8_0 model (llama-bench -ctk/-ctv;
//   llama.cpp refuses a quantized V cache without flash attention) and what the cache weighs at the real shapes;
//   mmproj F16 / Q8_0: encode time of one tile through our addon and the embeddings' distance (types-encode.ts);
//   the peak RSS of a fresh process that loads the Q8_0 model with each mmproj and runs one LlavaGuard.score()
//   (run-guard.ts). The llama-bench configurations run once per round, interleaved, and the best round is the
//   headline: on a shared host that is the least disturbed one.
// Fidelity, on the reference checks' tiny transformers-made checkpoints: types-fidelity.ts.
//
// The models are written once into --models (about 5 GB) and reused. The machine may be shared: the load average
// is sampled during the run and printed with the tables. Heavy: run under `nice` on a shared host.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { writePlannedFile } from '../../gguf/synthetic/plan.js';
import { planShapedModel, SHAPED_MODELS, type ShapedModelId } from '../../gguf/synthetic/shapes.js';
import { readGgufFile } from '../../gguf/reader.js';
import { ggmlTypeName } from '../../gguf/types.js';
import { kvCacheBytes, type CacheType } from '../../lib/runtime/validate/kv-cache.js';
import { quantizeModel } from '../../lib/tools/quantize.js';
import { type BenchSettings, f0, f1, f2, load1, log, mdTable, median, mustRunChild, repoRoot } from './common.js';
import { writePhotoLikePng } from './image.js';
import { ensurePair } from './lib/bench-pairs.js';
import { rowTokS, runLlamaBench, type LlamaBenchRow } from './llama-bench.js';
import { guardSpec } from './modes.js';
import type { GuardResult } from './run-guard.js';
import type { TypesEncodeResult, TypesEncodeSpec } from './types-encode.js';
import { FIDELITY_CONFIGS, runFidelity, type Family, type FidelityResult } from './types-fidelity.js';

const { values: opt } = parseArgs({
    options: {
        'speed-only': { type: 'boolean', default: false },
        'fidelity-only': { type: 'boolean', default: false },
        json: { type: 'string' },
        threads: { type: 'string', default: '2' },
        rounds: { type: 'string', default: '2' },
        ubatch: { type: 'string', default: '128' },
        models: { type: 'string', default: '/tmp/llavaguard-bench-models' },
        work: { type: 'string', default: '/tmp/llavaguard-bench-types' },
        families: { type: 'string', default: 'onevision,llava15' },
        'llama-bench': { type: 'string', default: path.join(repoRoot, 'build/bin/llama-bench') },
    },
});
if (opt['speed-only'] && opt['fidelity-only']) throw new Error('--speed-only and --fidelity-only exclude each other');
const threads = Number(opt.threads);
const rounds = Number(opt.rounds);
const ubatch = Number(opt.ubatch);
const SHAPES: ShapedModelId = 'llavaguard-v1.2-0.5b';

// ---- the machine's load, sampled through the run
const loads: number[] = [load1()];
const loadTimer = setInterval(() => loads.push(load1()), 5000);
const started = performance.now();

const cpuModel = os.cpus()[0]?.model ?? '?';
const flags = (() => {
    try {
        const f = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
        return f ? f[1]!.split(' ') : [];
    } catch {
        return [];
    }
})();

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

interface SpeedResult {
    model: string;
    settings: { threads: number; ubatch: number; rounds: number; p: number; n: number };
    text: TextSpeed[];
    kv: Array<{ k: string; v: string; flashAttention: 0 | 1; pp: number[]; tg: number[] }>;
    kvMiB: Array<{ shapes: string; cells: number; bytesPerCell: Record<string, number>; mib: Record<string, number> }>;
    mmproj: Array<{ type: string; fileMiB: number; encodeMs: number[]; embedRelL2VsF16?: number }>;
    imageTokens: number;
    score: ScoreRun[];
}

const P = 512;
const N = 32;

interface Repack {
    /** the CPU_REPACK buffer (0 when llama.cpp repacked nothing) */
    mib: number;
    tensors: number;
    /** the interleaved layouts used, e.g. q4_0_8x8 */
    layouts: string[];
}

/** What llama.cpp's load log (llama-bench -v) says it repacked for this CPU. */
function repackOf(bin: string, model: string): Promise<Repack> {
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

async function tensorTypes(file: string): Promise<Record<string, number>> {
    const c: Record<string, number> = {};
    for (const t of (await readGgufFile(file)).tensors) {
        if (t.dims.length < 2) continue;
        const n = ggmlTypeName(t.type);
        c[n] = (c[n] ?? 0) + 1;
    }
    return c;
}

const fmtTypes = (c: Record<string, number>) =>
    Object.entries(c)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');

async function speed(): Promise<SpeedResult> {
    const bin = opt['llama-bench']!;
    if (!existsSync(bin))
        throw new Error(`${bin} is missing: build llama.cpp's tools (LLAVAGUARD_BUILD_TOOLS=1 npm ci)`);
    const models = opt.models!;
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
    const mmprojQ8 = path.join(path.dirname(q8.model), 'mmproj-q8_0.gguf');
    if (!existsSync(mmprojQ8)) {
        log(`writing the Q8_0 mmproj to ${mmprojQ8} ...`);
        const plan = planShapedModel({ shapes: SHAPES, weightType: 'q8_0', mmprojWeightType: 'q8_0', seed: 0 });
        await writePlannedFile(plan.mmproj, mmprojQ8, plan.seed);
    }
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
        repacks.push(await repackOf(bin, t.file));
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
            tensorTypes: await tensorTypes(t.file),
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

/** best (the least disturbed on a shared host) and all rounds */
const bestOf = (xs: number[]) => `**${f1(Math.max(...xs))}** (${xs.map(f1).join(', ')})`;

function speedTables(s: SpeedResult): string {
    const f16 = s.text.find((t) => t.type === 'F16')!;
    const best = (xs: number[]) => Math.max(...xs);
    const textTable = mdTable(
        [
            'text model',
            'file (MiB)',
            'matrices by type',
            'repacked for this CPU (llama.cpp load log)',
            `prefill pp${P} (tok/s): best (rounds)`,
            `decode tg${N} (tok/s): best (rounds)`,
            'prefill / decode vs F16 (best)',
            'llama-bench peak RSS (MiB)',
        ],
        s.text.map((t) => [
            t.type,
            f0(t.fileMiB),
            fmtTypes(t.tensorTypes),
            t.repack.tensors > 0
                ? `${t.repack.tensors} matrices, ${f0(t.repack.mib)} MiB (${t.repack.layouts.join(', ')})`
                : 'no',
            bestOf(t.pp),
            bestOf(t.tg),
            `${f2(best(t.pp) / best(f16.pp))} / ${f2(best(t.tg) / best(f16.tg))}`,
            f0(t.peakRssMiB),
        ]),
    );
    const kvTable = mdTable(
        [
            'KV cache K/V (Q8_0 model)',
            'flash attention',
            `prefill pp${P} (tok/s): best (rounds)`,
            `decode tg${N} (tok/s): best (rounds)`,
        ],
        s.kv.map((k) => [`${k.k}/${k.v}`, k.flashAttention ? 'on' : 'off', bestOf(k.pp), bestOf(k.tg)]),
    );
    const kvSize = mdTable(
        [`KV cache at ${s.kvMiB[0]?.cells} cells (MiB)`, 'f16/f16', 'q8_0/f16', 'q8_0/q8_0'],
        s.kvMiB.map((k) => [k.shapes, f0(k.mib['f16/f16']!), f0(k.mib['q8_0/f16']!), f0(k.mib['q8_0/q8_0']!)]),
    );
    const mmTable = mdTable(
        [
            'mmproj',
            'file (MiB)',
            `encode, one tile of ${s.imageTokens} tokens (s): best (all)`,
            'embeddings vs F16 (rel. L2)',
        ],
        s.mmproj.map((m) => [
            m.type,
            f0(m.fileMiB),
            `**${f2(Math.min(...m.encodeMs) / 1000)}** (${m.encodeMs.map((x) => f2(x / 1000)).join(', ')})`,
            m.embedRelL2VsF16 === undefined ? '-' : m.embedRelL2VsF16.toExponential(2),
        ]),
    );
    const scoreTable = mdTable(
        [
            'one score() in a fresh process',
            'peak RSS (MiB)',
            'of it before loading (MiB)',
            'encode (s)',
            'prompt (s)',
            'wall (s)',
        ],
        s.score.map((r) => [
            `${r.text} text + ${r.mmproj} mmproj (${r.promptTokens} prompt tokens, ${r.imageTokens} image)`,
            f0(r.peakRssMiB),
            f0(r.baseRssMiB),
            f2(r.encodeMs / 1000),
            f2(r.promptMs / 1000),
            f2(r.wallMs / 1000),
        ]),
    );
    return [
        `Speed: shape-faithful ${s.model} pair (random weights run at the real weights' speed), llama-bench -p ${P} -n ${N} -t ${s.settings.threads} -ub ${s.settings.ubatch} -r 1, ${s.settings.rounds} rounds over all configurations; flash attention off unless the row says on.`,
        '',
        textTable,
        '',
        kvTable,
        '',
        kvSize,
        '',
        `Vision encoder through our addon (types-encode.ts: VisionContext.encodeImages, ${s.settings.threads} threads, flash attention off), with the Q8_0 text model:`,
        '',
        mmTable,
        '',
        "Memory of one assessment (run-guard.ts: LlavaGuard.load + score() on the 384x384 photo, llama.cpp image pipeline, flash attention off, the library's default context):",
        '',
        scoreTable,
    ].join('\n');
}

const sci = (x: number | undefined) =>
    x === undefined || !Number.isFinite(x) ? '-' : x === 0 ? '0' : x.toExponential(1);

function fidelityTables(r: FidelityResult): string {
    const out: string[] = [];
    for (const family of Object.keys(r.fixtures)) {
        const rows = r.rows.filter((x) => x.family === family);
        out.push(
            `Fidelity, tiny ${family} checkpoint (${r.fixtures[family]}), ${rows[0]?.pictures ?? 0} pictures, default policy; against F32 weights, F32 mmproj, F32 KV cache, flash attention off. Matrices by type: ${Object.entries(
                r.tensorTypes[family] ?? {},
            )
                .map(([t, c]) => `${t}: ${fmtTypes(c)}`)
                .join('; ')}. score-mode check |ΔP(Unsafe)| vs LlavaGuard.score(): ${sci(r.scoreModeCheck[family])}.`,
            '',
            mdTable(
                [
                    'configuration',
                    'first-token logits: max abs diff',
                    'max abs diff / max abs ref',
                    'KL(ref, type), max (nats)',
                    'top-1 same',
                    'P(Unsafe)',
                    'max abs ΔP(Unsafe)',
                    'image embeddings rel. L2 vs F32 / vs F16 mmproj',
                ],
                rows.map((x) => [
                    x.config.label,
                    sci(x.maxAbsLogitDiff),
                    sci(x.relLogitDiff),
                    sci(x.klMax),
                    `${x.top1Agree}/${x.pictures}`,
                    x.pUnsafe.map((p) => p.toFixed(3)).join(' '),
                    sci(x.maxAbsDeltaPUnsafe),
                    x.embedRelL2VsF32 === undefined
                        ? '-'
                        : `${sci(x.embedRelL2VsF32)} / ${x.embedRelL2VsF16 === undefined ? '-' : sci(x.embedRelL2VsF16)}`,
                ]),
            ),
            '',
        );
    }
    out.push(
        "Tiny random checkpoints (2 text layers of width 128, 3 vision layers of width 64, Gaussian weights) exaggerate or understate the real models' quantization error in unknown ways: no outlier channels, few layers to accumulate error, k-quants falling back on rows of 128. Read the figures as an ordering of the types, not as task accuracy.",
    );
    return out.join('\n');
}

let speedResult: SpeedResult | undefined;
let fidelityResult: FidelityResult | undefined;
try {
    if (!opt['fidelity-only']) speedResult = await speed();
    if (!opt['speed-only'])
        fidelityResult = await runFidelity({
            families: opt.families!.split(',').map((f) => f.trim()) as Family[],
            work: opt.work!,
        });
} finally {
    clearInterval(loadTimer);
}
loads.push(load1());
const load = {
    mean: loads.reduce((a, b) => a + b, 0) / loads.length,
    max: Math.max(...loads),
    samples: loads.length,
};
const minutes = (performance.now() - started) / 60000;
const header = `bench:types on ${cpuModel} (${os.availableParallelism()} cores; ${['avx2', 'avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_tile'].filter((f) => flags.includes(f)).join(', ') || 'flags unknown'}), ${new Date().toISOString()}: ${minutes.toFixed(1)} min, load average (1 min) mean ${load.mean.toFixed(1)}, max ${load.max.toFixed(1)} over ${load.samples} samples`;
const text = [
    header,
    '',
    speedResult ? speedTables(speedResult) : '',
    '',
    fidelityResult ? fidelityTables(fidelityResult) : '',
]
    .filter((s, i, a) => s !== '' || a[i - 1] !== '')
    .join('\n');
process.stdout.write(`${text}\n`);
if (opt.json) {
    writeFileSync(
        opt.json,
        JSON.stringify(
            {
                date: new Date().toISOString(),
                cpu: cpuModel,
                cores: os.availableParallelism(),
                load,
                minutes,
                speed: speedResult,
                fidelity: fidelityResult && { ...fidelityResult, configs: FIDELITY_CONFIGS },
            },
            null,
            2,
        ),
    );
    log(`wrote ${opt.json}`);
}
