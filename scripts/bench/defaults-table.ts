// --defaults-table: the measured effect of each setting the library picks a default for, measured cheaply.
//   text model: llama-bench (same llama.cpp tree) with a short prompt / generation, each knob varied alone
//     around the matched settings: threads, ubatch, flash attention (prefill, and decode at the depth of a real
//     assessment), KV cache type, GPU layers (only where llama-bench lists a device);
//   weight type: F16 / BF16 / Q8_0 / Q4_K_M text models (the shaped F16 pair written by gguf/synthetic/shapes.ts, the
//     others written the same way or by our quantizer lib/tools/quantize.ts): llama-bench speed, file size, and as an
//     accuracy proxy the drift of score()'s probabilities from the F16 model's (random weights: numerical drift, not
//     task accuracy);
//   vision encoder, through our addon (scripts/bench/run-encode.ts): flash attention on/off, threads, and the
//     image-token bound (imageMaxTokens) on a larger image.

import os from 'node:os';
import { statSync } from 'node:fs';

import { f0, f1, f3, log, mdTable, median, mib, mustRunChild, type BenchSettings } from './common.js';
import { listDevices, rowTokS, runLlamaBench, type LlamaBenchRow } from './llama-bench.js';
import { guardSpec } from './modes.js';
import type { EncodeResult, EncodeSpec } from './run-encode.js';
import type { GuardResult } from './run-guard.js';

export interface WeightModel {
    type: string;
    model: string;
    mmproj: string;
}

export interface DefaultsTableInput {
    pair: { model: string; mmproj: string };
    image: string;
    /** a larger image (several anyres tiles) for the image-token bound */
    largeImage: string;
    /** text tokens + image tokens of a real assessment: the depth at which decode is measured */
    depth: number;
    /** image tokens of `image` */
    imageTokens: number;
    /** -p / -n / -r of the llama-bench tests */
    p: number;
    n: number;
    r: number;
    /** the text models by weight type (F16 first: the reference), made on demand */
    weightModels: () => Promise<WeightModel[]>;
}

interface TextRow {
    knob: string;
    value: string;
    pp: number;
    tg: number;
    base?: boolean;
}

export async function runDefaultsTable(
    s: BenchSettings,
    d: DefaultsTableInput,
): Promise<{ text: string; json: unknown }> {
    const common = ['-m', d.pair.model, '-r', String(d.r), '-b', String(s.batch)];
    const pn = ['-p', String(d.p), '-n', String(d.n)];
    const tokS = (rows: LlamaBenchRow[], pick: (r: LlamaBenchRow) => boolean) => {
        const pp = rows.find((r) => pick(r) && r.n_prompt > 0 && r.n_gen === 0);
        const tg = rows.find((r) => pick(r) && r.n_gen > 0 && r.n_prompt === 0);
        return { pp: pp ? rowTokS(pp) : NaN, tg: tg ? rowTokS(tg) : NaN };
    };
    const bench = async (extra: string[]) => (await runLlamaBench(s.llamaBench, [...common, ...extra])).rows;
    const rows: TextRow[] = [];
    const fa = (r: LlamaBenchRow) => (r.flash_attn === true || r.flash_attn === 1 ? 1 : 0);
    /** The matched threads and ubatch, with flash attention as given (llama-bench's 0, 1 or a list). */
    const matched = (flash: string) => ['-t', String(s.threads), '-ub', String(s.ubatch), '-fa', flash];

    // threads
    const cores = os.availableParallelism();
    const threadList = [
        ...new Set([1, Math.max(1, s.threads >> 1), s.threads, cores].filter((t) => t <= Math.max(cores, s.threads))),
    ].sort((a, b) => a - b);
    log(`defaults table: threads ${threadList.join(',')} ...`);
    let b = await bench([...pn, '-t', threadList.join(','), '-ub', String(s.ubatch), '-fa', '0']);
    for (const t of threadList)
        rows.push({
            knob: 'threads (text model)',
            value: String(t),
            ...tokS(b, (r) => r.n_threads === t),
            base: t === s.threads,
        });

    // ubatch
    const ubs = [128, 256, 512, 1024].filter((u) => u <= s.batch);
    log(`defaults table: ubatch ${ubs.join(',')} ...`);
    b = await bench(['-p', String(d.p), '-n', '0', '-t', String(s.threads), '-ub', ubs.join(','), '-fa', '0']);
    for (const u of ubs)
        rows.push({
            knob: `ubatch (batch ${s.batch}; prefill only)`,
            value: String(u),
            ...tokS(b, (r) => r.n_ubatch === u),
            base: u === s.ubatch,
        });

    // flash attention: prefill, and decode at the depth of an assessment
    log(`defaults table: flash attention, decode at depth ${d.depth} ...`);
    b = await bench([...pn, ...matched('0,1')]);
    const bd = await bench(['-p', '0', '-n', String(d.n), '-d', String(d.depth), ...matched('0,1')]);
    for (const f of [0, 1])
        rows.push({
            knob: 'flash attention (text model)',
            value: f ? 'on' : 'off',
            ...tokS(b, (r) => fa(r) === f),
            base: f === 0,
        });
    for (const f of [0, 1]) {
        const deep = bd.find((r) => fa(r) === f && r.n_gen > 0);
        rows.push({
            knob: `flash attention, decode at depth ${d.depth}`,
            value: f ? 'on' : 'off',
            pp: NaN,
            tg: deep ? rowTokS(deep) : NaN,
            base: f === 0,
        });
    }

    // KV cache type (a quantized V cache needs flash attention)
    log('defaults table: KV cache types ...');
    b = await bench([...pn, ...matched('1'), '-ctk', 'f16,q8_0', '-ctv', 'f16,q8_0']);
    for (const k of ['f16', 'q8_0'])
        for (const v of ['f16', 'q8_0'])
            rows.push({
                knob: 'KV cache type K/V (flash attention on)',
                value: `${k}/${v}`,
                ...tokS(b, (r) => r.type_k === k && r.type_v === v),
                base: k === 'f16' && v === 'f16',
            });

    // GPU layers
    const devices = await listDevices(s.llamaBench);
    if (devices.length > 0) {
        log(`defaults table: GPU layers (${devices.join('; ')}) ...`);
        b = await bench([...pn, '-t', String(s.threads), '-ngl', '0,99']);
        for (const g of [0, 99])
            rows.push({
                knob: `GPU layers (${devices[0]})`,
                value: String(g),
                ...tokS(b, (r) => r.n_gpu_layers === g),
                base: g === 99,
            });
    }

    // weight types
    log('defaults table: weight types ...');
    const wms = await d.weightModels();
    const wrows: Array<{
        type: string;
        sizeMiB: number;
        pp: number;
        tg: number;
        pUnsafe: number;
        dUnsafe: number;
        dCat: number;
        sameCategory: boolean;
        scoreMs: number;
    }> = [];
    let ref: GuardResult | undefined;
    for (const w of wms) {
        const wb = await runLlamaBench(s.llamaBench, ['-m', w.model, '-r', String(d.r), ...pn, ...matched('0')]);
        const x = tokS(wb.rows, () => true);
        const sc = await mustRunChild<GuardResult>('run-guard.ts', guardSpec(s, w, 'score', [d.image]));
        ref ??= sc;
        const probs = (g: GuardResult) => g.calls[0]!;
        const dUnsafe = Math.abs(probs(sc).unsafeProbability! - probs(ref).unsafeProbability!);
        const cats = probs(sc).categoryProbabilities ?? {};
        const refCats = probs(ref).categoryProbabilities ?? {};
        const dCat = Math.max(0, ...Object.keys(cats).map((k) => Math.abs(cats[k]! - (refCats[k] ?? NaN))));
        const sameCategory = probs(sc).category === probs(ref).category;
        wrows.push({
            type: w.type,
            sizeMiB: statSync(w.model).size / 1048576,
            pp: x.pp,
            tg: x.tg,
            pUnsafe: probs(sc).unsafeProbability!,
            dUnsafe,
            dCat,
            sameCategory,
            scoreMs: sc.wallMs,
        });
    }

    // vision encoder, through our addon
    log('defaults table: vision encoder ...');
    const enc = async (o: Partial<EncodeSpec>) =>
        mustRunChild<EncodeResult>('run-encode.ts', {
            model: d.pair.model,
            mmproj: d.pair.mmproj,
            image: d.image,
            threads: s.threads,
            mmprojFlashAttention: 'off',
            repeat: Math.max(2, d.r),
            contextSize: s.ctx,
            ...o,
        } satisfies EncodeSpec);
    const vrows: Array<{ knob: string; value: string; r: EncodeResult; base: boolean }> = [];
    for (const f of ['off', 'on'] as const)
        vrows.push({
            knob: 'flash attention (vision encoder)',
            value: f,
            r: await enc({ mmprojFlashAttention: f }),
            base: f === 'off',
        });
    for (const t of threadList)
        vrows.push({
            knob: 'threads (vision encoder)',
            value: String(t),
            r: await enc({ threads: t }),
            base: t === s.threads,
        });
    const bound = Math.max(1, d.imageTokens);
    for (const m of [undefined, bound] as const)
        vrows.push({
            knob: 'imageMaxTokens, larger image',
            value: m === undefined ? 'unset' : String(m),
            r: await enc({ image: d.largeImage, imageMaxTokens: m, contextSize: 4 * s.ctx }),
            base: m === undefined,
        });

    // ---- tables
    const baseOf = (knob: string) => rows.find((r) => r.knob === knob && r.base);
    const rel = (x: number, y: number | undefined) =>
        y !== undefined && Number.isFinite(x) && Number.isFinite(y) ? f3(x / y) : '-';
    const textTable = mdTable(
        ['knob', 'value', 'prefill (tokens/s)', 'decode (tokens/s)', 'prefill vs default', 'decode vs default'],
        rows.map((r) => {
            const bs = baseOf(r.knob);
            return [
                r.knob,
                r.base ? `**${r.value}**` : r.value,
                f1(r.pp),
                f1(r.tg),
                rel(r.pp, bs?.pp),
                rel(r.tg, bs?.tg),
            ];
        }),
    );
    const wbase = wrows[0];
    const weightTable = mdTable(
        [
            'weight type (text model)',
            'file (MiB)',
            'prefill (tokens/s)',
            'decode (tokens/s)',
            'prefill vs F16',
            'decode vs F16',
            'score() P(Unsafe)',
            `abs ΔP(Unsafe) vs ${wbase?.type ?? 'F16'}`,
            'max abs ΔP(category)',
            'same top category',
            'score() wall (ms)',
        ],
        wrows.map((w) => [
            w.type,
            f0(w.sizeMiB),
            f1(w.pp),
            f1(w.tg),
            rel(w.pp, wbase?.pp),
            rel(w.tg, wbase?.tg),
            w.pUnsafe.toFixed(4),
            w.dUnsafe.toExponential(2),
            w.dCat.toExponential(2),
            String(w.sameCategory),
            f0(w.scoreMs),
        ]),
    );
    const vbaseOf = (knob: string) => vrows.find((r) => r.knob === knob && r.base);
    const visionTable = mdTable(
        [
            'knob (through our addon)',
            'value',
            'image tokens',
            'image encode (ms, median)',
            'vs default',
            'embedding decode (ms)',
            'peak RSS (MiB)',
        ],
        vrows.map((v) => {
            const bs = vbaseOf(v.knob);
            return [
                v.knob,
                v.base ? `**${v.value}**` : v.value,
                String(v.r.imageTokens),
                f0(median(v.r.imageMs)),
                rel(median(v.r.imageMs), bs && median(bs.r.imageMs)),
                f0(median(v.r.promptMs)),
                f0(v.r.peakRssMiB),
            ];
        }),
    );
    const text = [
        `### Defaults: measured effect of each setting (${d.r} repetitions each; bold = the matched setting the others are compared with)`,
        '',
        `Library defaults now: threads = os.availableParallelism() (LLAVAGUARD_THREADS overrides), batch ${s.batch} / ubatch ${s.ubatch}, flash attention measured at load on the CPU, separately for the text model and the vision encoder (lib/runtime/flash-attention-choice.ts; auto on GPUs), KV cache f16, all layers on the GPU where one is built in, no image-token bound. Weight type: what the user downloads (the table shows the cost of each).`,
        '',
        `Text model (${mib(statSync(d.pair.model).size)} MiB), llama-bench -p ${d.p} -n ${d.n} (decode at depth: -p 0 -n ${d.n} -d ${d.depth}), one knob varied at a time around threads ${s.threads}, ubatch ${s.ubatch}, flash attention off, KV f16:`,
        '',
        textTable,
        devices.length === 0
            ? '\nGPU layers: llama-bench lists no device besides the CPU (CPU-only build): gpuLayers has no effect here.'
            : '',
        '',
        'Weight type (llama-bench as above; score() through LlavaGuard on the test picture, F16 mmproj for all; random weights, so the drift is numerical error, not task accuracy):',
        '',
        weightTable,
        wms.some((w) => w.type === 'BF16') ? '' : '\nBF16: not measured here (no BF16 writer for these test models).',
        '',
        `Vision encoder, through our addon (run-encode.ts: VisionContext.evaluate of the marker + image, ${Math.max(2, d.r)} evaluations a process; the image-token bound on a 2x larger image):`,
        '',
        visionTable,
    ].join('\n');
    return {
        text,
        json: {
            text: rows,
            weights: wrows,
            vision: vrows.map((v) => ({
                knob: v.knob,
                value: v.value,
                imageTokens: v.r.imageTokens,
                imageMs: median(v.r.imageMs),
                peakRssMiB: v.r.peakRssMiB,
            })),
            devices,
        },
    };
}
