// `npm run bench -- --photos`: one verdict on photo-sized pictures (default 741x500, 1024x768, 4032x3024), three
// ways, encode / prefill / decode apart:
//
//   ours      LlavaGuard.assess() with the faithful image pipeline (transformers' OneVision layout: overview +
//             tile grid, unpadded, downsampled past anyres_max, newlines), our defaults otherwise (jump-forward,
//             the CPU micro-batch CPU_UBATCH), flash attention off for the text model and the encoder; a fresh
//             process per run (scripts/bench/run-guard.ts), loading excluded.
//   floor     what llama.cpp itself needs for the same work, from measurements that are not our assessments:
//               encode  = the faithful plan's encoder inputs (overview + tiles) x the encoder's time for one
//                         tile, encoded alone (scripts/bench/run-tile-encode.ts, median of --runs after a warm-up)
//               prefill = our prompt tokens (image + text) at llama-bench's rate for a prompt of that many
//                         tokens (`-p N -n 0`)
//               decode  = our generated tokens at llama-bench's decode rate at that depth (`-p 0 -n G -d N`)
//             same threads, micro-batch and flash attention (off) as ours. llama-bench runs with --no-warmup for
//             the prefill: its warm-up in this tree is a whole extra prefill of N tokens, and ours runs cold too.
//   llama-mtmd-cli  the same photo, prompt and grammar with llama.cpp's own tiling (anyres tiles + overview, no
//             unpadding: up to 36 + 1 tiles of 729 tokens on the 0.5B), same threads / micro-batch / flash
//             attention, no warm-up, a context sized for its largest tiling; its image tokens read from its log.
//
// Ours vs the floor per size (wall / floor); photoVsFloor is the worst size's ratio. Generated tokens differ
// between ours and llama-mtmd-cli wherever the image tokens differ (another prompt), so its decode is its own.

import { existsSync } from 'node:fs';
import path from 'node:path';

import { CPU_UBATCH } from '../../lib/runtime/VisionContext.js';
import { type BenchSettings, f0, f1, f2, f3, load1, log, mdTable, median, mustRunChild } from './common.js';
import { writePhotoLikePng } from './image.js';
import type { Pair } from './lib/bench-pairs.js';
import { rowTokS, runLlamaBench } from './llama-bench.js';
import { guardSpec } from './modes.js';
import { runMtmdCliComplete } from './mtmd-cli.js';
import type { GuardResult } from './run-guard.js';
import type { PhotoPlan, TileEncodeResult, TileEncodeSpec } from './run-tile-encode.js';

export const DEFAULT_PHOTO_SIZES = '741x500,1024x768,4032x3024';

/** Per process: one 4032x3024 verdict through llama-mtmd-cli is ~10 min on a quiet 2-core host, more on a busy one. */
const CLI_TIMEOUT_MS = 120 * 60_000;
const LLAMA_BENCH_TIMEOUT_MS = 120 * 60_000;

export interface PhotoSize {
    width: number;
    height: number;
}

export function parseSizes(value: string): PhotoSize[] {
    return value.split(',').map((s) => {
        const m = /^\s*(\d+)x(\d+)\s*$/.exec(s);
        if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
            throw new Error(`--sizes takes WxH[,WxH...] (e.g. ${DEFAULT_PHOTO_SIZES}), got '${s}'`);
        return { width: Number(m[1]), height: Number(m[2]) };
    });
}

/** Milliseconds of one verdict, by phase; total is the whole call / assessment. */
export interface Phases {
    encodeMs: number;
    prefillMs: number;
    decodeMs: number;
    totalMs: number;
}

export interface OursPhotoRun extends Phases {
    /** total - encode - prefill - decode: decoding the PNG, resizing and cutting the tiles, packing */
    otherMs: number;
    imageTokens: number;
    promptTokens: number;
    generated: number;
    rating: string;
    peakRssMiB: number;
}

export interface CliPhotoRun extends Phases {
    imageTokens: number;
    promptTokens: number;
    generated: number;
    /** encode batches mtmd-cli ran ("mtmd batch encoding done") */
    encodeBatches: number;
    peakRssMiB: number;
}

export interface PhotoFloor extends Phases {
    tiles: number;
    tileEncodeMs: number;
    promptTokens: number;
    prefillTokS: number;
    prefillSamplesTokS: number[];
    generated: number;
    /** decode rate at depth promptTokens */
    decodeTokS: number;
    decodeSamplesTokS: number[];
    args: { prefill: string[]; decode: string[] };
}

export interface PhotoFigures {
    width: number;
    height: number;
    file: string;
    plan: PhotoPlan;
    ours: OursPhotoRun;
    oursRuns: OursPhotoRun[];
    cli?: CliPhotoRun;
    cliRuns: CliPhotoRun[];
    floor: PhotoFloor;
    oursVsFloor: number;
    oursVsCli: number;
}

export interface PhotoResults {
    date: string;
    threads: number;
    runs: number;
    cliRuns: number;
    ubatch: number;
    cliContext: number;
    model: string;
    mmproj: string;
    tile: { side: number; tokens: number; encodeMs: number[]; medianMs: number };
    loads: number[];
    sizes: PhotoFigures[];
    photoVsFloor: number;
}

export interface PhotoBenchInput {
    S: BenchSettings;
    pair: Pair;
    sizes: PhotoSize[];
    /** runs of llama-mtmd-cli per size (0: none); ours runs S.runs times */
    cliRuns: number;
    /** where the photos are written once (photo-WxH-s1.png) */
    dir: string;
    /** the rendered prompt with the media marker, for llama-mtmd-cli */
    prompt: string;
    grammarFile: string;
    /** called with the figures so far after each step (the --json FILE.partial) */
    checkpoint?: (partial: Record<string, unknown>) => void;
}

const medianOf = <T extends object>(runs: T[]): T => {
    const out: Record<string, number> = {};
    for (const k of Object.keys(runs[0]!))
        if (typeof (runs[0] as Record<string, unknown>)[k] === 'number')
            out[k] = median(runs.map((r) => (r as Record<string, number>)[k]!));
    return { ...runs[0]!, ...out };
};

const photoFile = (dir: string, s: PhotoSize) => path.join(dir, `photo-${s.width}x${s.height}-s1.png`);

function oursRun(r: GuardResult): OursPhotoRun {
    const c = r.calls[0]!;
    return {
        encodeMs: c.imageMs,
        prefillMs: c.promptMs,
        decodeMs: c.afterPromptMs,
        totalMs: c.wallMs,
        otherMs: c.wallMs - c.imageMs - c.promptMs - c.afterPromptMs,
        imageTokens: c.imageTokens,
        promptTokens: c.promptTokens,
        generated: c.generated ?? 0,
        rating: c.rating,
        peakRssMiB: r.peakRssMiB,
    };
}

/** llama-mtmd-cli's arguments for a photo: our settings, its own tiling, a context for its largest tiling. */
function photoCliArgs(input: PhotoBenchInput, image: string, ctx: number): string[] {
    const { S, pair } = input;
    return [
        '-m',
        pair.model,
        '--mmproj',
        pair.mmproj,
        '--image',
        image,
        '-p',
        input.prompt,
        '--no-escape',
        '--jinja',
        // a no-op template: it tokenizes exactly our rendered prompt (as lib/side-by-side.ts does)
        '--chat-template',
        "{% for message in messages %}{{ message['content'] }}{% endfor %}",
        '--grammar-file',
        input.grammarFile,
        '-n',
        String(S.maxTokens),
        '--temp',
        String(S.temp),
        '--top-k',
        String(S.topK),
        '--top-p',
        String(S.topP),
        '--min-p',
        '0',
        '--seed',
        String(S.seed),
        '-t',
        String(S.threads),
        '-tb',
        String(S.threads),
        '-fa',
        'off',
        '-c',
        String(ctx),
        '-b',
        String(S.batch),
        '-ub',
        String(CPU_UBATCH),
        '--no-warmup',
        '--log-timestamps',
        '--log-prefix',
        '-lv',
        '4',
    ];
}

async function runCliPhoto(input: PhotoBenchInput, image: string, ctx: number): Promise<CliPhotoRun> {
    const c = await runMtmdCliComplete(input.S.cli, photoCliArgs(input, image, ctx), 3, CLI_TIMEOUT_MS);
    if (!c.ok) throw new Error(`llama-mtmd-cli failed on ${image} (exit ${c.exitCode}):\n${c.logTail}`);
    return {
        encodeMs: c.imageMs,
        prefillMs: c.promptEvalMs,
        decodeMs: c.wallMs - c.prefillMs,
        totalMs: c.wallMs,
        imageTokens: c.imageTokens,
        promptTokens: c.promptTokens,
        generated: c.evalRuns,
        encodeBatches: c.imageChunks,
        peakRssMiB: c.peakRssMiB,
    };
}

async function measurePhotoFloor(
    S: BenchSettings,
    model: string,
    plan: PhotoPlan,
    tileEncodeMs: number,
    promptTokens: number,
    generated: number,
): Promise<PhotoFloor> {
    const common = ['-m', model, '-t', String(S.threads), '-b', String(S.batch), '-ub', String(CPU_UBATCH), '-fa', '0'];
    const reps = ['-r', String(S.runs)];
    const pp = await runLlamaBench(
        S.llamaBench,
        [...common, '-p', String(promptTokens), '-n', '0', ...reps, '--no-warmup'],
        LLAMA_BENCH_TIMEOUT_MS,
    );
    const ppRow = pp.rows.find((x) => x.n_prompt === promptTokens && x.n_gen === 0);
    const g = Math.max(1, generated);
    const tg = await runLlamaBench(
        S.llamaBench,
        [...common, '-p', '0', '-n', String(g), '-d', String(promptTokens), ...reps],
        LLAMA_BENCH_TIMEOUT_MS,
    );
    const tgRow = tg.rows.find((x) => x.n_gen === g && x.n_depth === promptTokens);
    if (!ppRow || !tgRow)
        throw new Error(`llama-bench gave no row for -p ${promptTokens} / -n ${g} -d ${promptTokens}`);
    const prefillTokS = rowTokS(ppRow);
    const decodeTokS = rowTokS(tgRow);
    const encodeMs = plan.tiles * tileEncodeMs;
    const prefillMs = (1000 * promptTokens) / prefillTokS;
    const decodeMs = (1000 * generated) / decodeTokS;
    return {
        tiles: plan.tiles,
        tileEncodeMs,
        encodeMs,
        promptTokens,
        prefillTokS,
        prefillSamplesTokS: ppRow.samples_ts,
        prefillMs,
        generated,
        decodeTokS,
        decodeSamplesTokS: tgRow.samples_ts,
        decodeMs,
        totalMs: encodeMs + prefillMs + decodeMs,
        args: { prefill: pp.args, decode: tg.args },
    };
}

export async function runPhotoBench(input: PhotoBenchInput): Promise<PhotoResults> {
    const { S, pair, sizes } = input;
    const files = sizes.map((s) => photoFile(input.dir, s));
    for (const [i, s] of sizes.entries()) {
        if (existsSync(files[i]!)) continue;
        log(`writing the ${s.width}x${s.height} photo ${files[i]} ...`);
        await writePhotoLikePng(files[i]!, s.width, s.height, 1);
    }
    const loads: number[] = [load1()];
    log(`photos: the encoder's time for one tile (1 warm-up + ${S.runs}) and each size's plan ...`);
    const enc = await mustRunChild<TileEncodeResult>('run-tile-encode.ts', {
        model: pair.model,
        mmproj: pair.mmproj,
        threads: S.threads,
        mmprojFlashAttention: 'off',
        sizes,
        warmup: 1,
        repeat: S.runs,
    } satisfies TileEncodeSpec);
    const tileMs = median(enc.encodeMs);
    log(
        `  one ${enc.tileSide}x${enc.tileSide} tile (${enc.tileTokens} tokens): ${enc.encodeMs.map(f0).join(', ')} ms; plans: ${enc.plans.map((p) => `${p.width}x${p.height} ${p.tiles} tiles / ${p.imageTokens} tokens`).join('; ')}`,
    );
    // llama-mtmd-cli's context: llama.cpp's largest tiling, the prompt's text (our first run's prompt tokens less
    // its image tokens) and the answer, in whole pages of 256 cells
    let cliContext = 0;
    const tile = { side: enc.tileSide, tokens: enc.tileTokens, encodeMs: enc.encodeMs, medianMs: tileMs };

    const ours: OursPhotoRun[][] = sizes.map(() => []);
    const cli: CliPhotoRun[][] = sizes.map(() => []);
    const snapshot = () => ({ tile, cliContext, oursRuns: ours, cliRuns: cli, loads });
    for (let i = 0; i < S.runs; i++) {
        for (const [k, s] of sizes.entries()) {
            const label = `${s.width}x${s.height} ${i + 1}/${S.runs}`;
            loads.push(load1());
            log(`photo ${label}: ours (faithful) ... (load average ${load1().toFixed(2)})`);
            const r = await mustRunChild<GuardResult>('run-guard.ts', {
                ...guardSpec(S, pair, 'full', [files[k]!]),
                imagePipeline: 'faithful',
            });
            if (r.imagePipeline !== 'onevision-anyres')
                throw new Error(`our run used the '${r.imagePipeline}' pipeline, not the faithful OneVision one`);
            const o = oursRun(r);
            ours[k]!.push(o);
            log(
                `  ours ${f0(o.totalMs)} ms: encode ${f0(o.encodeMs)}, prefill ${f0(o.prefillMs)} (${o.promptTokens} tokens, ${o.imageTokens} image), decode ${f0(o.decodeMs)} (${o.generated} tokens), other ${f0(o.otherMs)}`,
            );
            if (o.imageTokens !== enc.plans[k]!.imageTokens)
                log(`  note: ${o.imageTokens} image tokens, the plan says ${enc.plans[k]!.imageTokens}`);
            cliContext ||=
                Math.ceil((o.promptTokens - o.imageTokens + enc.llamaCppMaxImageTokens + S.maxTokens + 16) / 256) * 256;
            if (i < input.cliRuns) {
                loads.push(load1());
                log(`  llama-mtmd-cli (its own tiling, -c ${cliContext}) ...`);
                const c = await runCliPhoto(input, files[k]!, cliContext);
                cli[k]!.push(c);
                log(
                    `  llama-mtmd-cli ${f0(c.totalMs)} ms: encode ${f0(c.encodeMs)}, prefill ${f0(c.prefillMs)} (${c.promptTokens} tokens, ${c.imageTokens} image), decode ${f0(c.decodeMs)} (${c.generated} tokens)`,
                );
            }
            input.checkpoint?.({ photos: snapshot() });
        }
    }

    const out: PhotoFigures[] = [];
    for (const [k, s] of sizes.entries()) {
        const o = medianOf(ours[k]!);
        const c = cli[k]!.length ? medianOf(cli[k]!) : undefined;
        const promptTokens = Math.round(o.promptTokens);
        const generated = Math.round(o.generated);
        log(
            `photo ${s.width}x${s.height}: floor (llama-bench -p ${promptTokens} -n 0; -n ${generated} -d ${promptTokens}) ...`,
        );
        loads.push(load1());
        const floor = await measurePhotoFloor(S, pair.model, enc.plans[k]!, tileMs, promptTokens, generated);
        log(
            `  floor ${f0(floor.totalMs)} ms: encode ${f0(floor.encodeMs)}, prefill ${f0(floor.prefillMs)} (${f1(floor.prefillTokS)} tokens/s), decode ${f0(floor.decodeMs)} (${f1(floor.decodeTokS)} tokens/s at depth ${promptTokens})`,
        );
        out.push({
            width: s.width,
            height: s.height,
            file: files[k]!,
            plan: enc.plans[k]!,
            ours: o,
            oursRuns: ours[k]!,
            ...(c ? { cli: c } : {}),
            cliRuns: cli[k]!,
            floor,
            oursVsFloor: o.totalMs / floor.totalMs,
            oursVsCli: c ? o.totalMs / c.totalMs : NaN,
        });
        input.checkpoint?.({ photos: { ...snapshot(), sizes: out } });
    }
    loads.push(load1());
    return {
        date: new Date().toISOString(),
        threads: S.threads,
        runs: S.runs,
        cliRuns: Math.min(input.cliRuns, S.runs),
        ubatch: CPU_UBATCH,
        cliContext,
        model: pair.model,
        mmproj: pair.mmproj,
        tile,
        loads,
        sizes: out,
        photoVsFloor: Math.max(...out.map((f) => f.oursVsFloor)),
    };
}

const s1 = (ms: number) => f1(ms / 1000);

export function photosReport(r: PhotoResults): string {
    const head = [
        'photo',
        'ours image tokens',
        'ours encode (s)',
        'ours prefill (s)',
        'ours decode (s)',
        'ours total (s)',
        'floor encode (s)',
        'floor prefill (s)',
        'floor decode (s)',
        'floor total (s)',
        'ours / floor',
        'llama-mtmd-cli image tokens',
        'llama-mtmd-cli encode (s)',
        'llama-mtmd-cli prefill (s)',
        'llama-mtmd-cli decode (s)',
        'llama-mtmd-cli total (s)',
    ];
    const rows = r.sizes.map((f) => [
        `${f.width}x${f.height}`,
        f0(f.ours.imageTokens),
        s1(f.ours.encodeMs),
        s1(f.ours.prefillMs),
        s1(f.ours.decodeMs),
        s1(f.ours.totalMs),
        s1(f.floor.encodeMs),
        s1(f.floor.prefillMs),
        s1(f.floor.decodeMs),
        s1(f.floor.totalMs),
        `**${f3(f.oursVsFloor)}**`,
        f.cli ? f0(f.cli.imageTokens) : '-',
        f.cli ? s1(f.cli.encodeMs) : '-',
        f.cli ? s1(f.cli.prefillMs) : '-',
        f.cli ? s1(f.cli.decodeMs) : '-',
        f.cli ? s1(f.cli.totalMs) : '-',
    ]);
    const details = mdTable(
        [
            'photo',
            'faithful plan: grid / encoder inputs',
            'ours prompt tokens / generated',
            'ours other (s): PNG decode, resize, tiles, packing',
            'floor: s/tile x tiles',
            'floor: llama-bench prefill (tokens/s)',
            'floor: decode at depth (tokens/s)',
            'ours total runs (s)',
            'llama-mtmd-cli prompt tokens / generated',
            'llama-mtmd-cli total runs (s)',
            'ours / llama-mtmd-cli',
        ],
        r.sizes.map((f) => [
            `${f.width}x${f.height}`,
            `${f.plan.grid.cols}x${f.plan.grid.rows} / ${f.plan.tiles}`,
            `${f0(f.ours.promptTokens)} / ${f0(f.ours.generated)}`,
            s1(f.ours.otherMs),
            `${f2(f.floor.tileEncodeMs / 1000)} x ${f.floor.tiles}`,
            `${f1(f.floor.prefillTokS)} (${f.floor.prefillSamplesTokS.map(f1).join(', ')})`,
            `${f1(f.floor.decodeTokS)} (${f.floor.decodeSamplesTokS.map(f1).join(', ')})`,
            f.oursRuns.map((x) => s1(x.totalMs)).join(', '),
            f.cli ? `${f0(f.cli.promptTokens)} / ${f0(f.cli.generated)}` : '-',
            f.cliRuns.map((x) => s1(x.totalMs)).join(', ') || '-',
            f3(f.oursVsCli),
        ]),
    );
    const loads = r.loads.filter(Number.isFinite);
    return [
        `### Photos: ours (faithful pipeline) vs its floor vs llama-mtmd-cli (its own tiling), one verdict each`,
        '',
        `${r.threads} threads, flash attention off (text and encoder) everywhere, micro-batch ${r.ubatch}; medians of ${r.runs} runs (ours) and ${r.cliRuns} (llama-mtmd-cli, -c ${r.cliContext}); floor = encoder inputs x one tile's encode (${s1(r.tile.medianMs)} s for ${r.tile.side}x${r.tile.side}, ${r.tile.tokens} tokens; runs ${r.tile.encodeMs.map((x) => s1(x)).join(', ')}) + llama-bench prefill of our prompt tokens + decode of our generated tokens at that depth; load average ${f1(Math.min(...loads))}-${f1(Math.max(...loads))}.`,
        '',
        mdTable(head, rows),
        '',
        details,
        '',
        "Ours: encode = the tiles' encodes (`timings.imageMs`), prefill = text + packed image embeddings, decode = after the prompt; other = the rest of the call. llama-mtmd-cli: encode = its `mtmd batch encoding` (its image preprocessing included), prefill = llama_perf prompt eval less the encode, decode = the rest of its assessment (PNG decoding and sampling included).",
        '',
        `**photoVsFloor = ${f3(r.photoVsFloor)}** (the worst size's ours / floor; target <= 1.10)`,
        '',
    ].join('\n');
}

export function photosJson(r: PhotoResults): string {
    return `${JSON.stringify(r, null, 2)}\n`;
}
