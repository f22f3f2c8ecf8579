// `npm run bench -- --photos`: one verdict on photo-sized pictures (default 741x500, 1024x768, 4032x3024), three
// ways, encode / prefill / decode apart, on the shape-faithful 0.5B pair as the README advises for a CPU (Q8_0
// text model and mmproj, `convert --type q8_0`; --pair DIR for another):
//
//   ours      LlavaGuard.assess() with the faithful image pipeline (transformers' OneVision layout: overview +
//             tile grid, unpadded, downsampled past anyres_max, newlines), our defaults otherwise (jump-forward,
//             the CPU micro-batch CPU_UBATCH, flash attention per part as the library measures it, unless
//             --flash-attention pins both); a fresh process per run (scripts/bench/run-guard.ts), loading excluded.
//   floor     what llama.cpp itself needs for the same work, from measurements that are not our assessments:
//               encode  = the faithful plan's encoder inputs (overview + tiles) x the encoder's time for one
//                         tile, encoded alone (scripts/bench/run-tile-encode.ts, median of --runs after a warm-up)
//               prefill = our prompt tokens (image + text) at llama-bench's rate for a prompt of that many
//                         tokens (`-p N -n 0`)
//               decode  = our generated tokens at llama-bench's decode rate at that depth (`-p 0 -n G -d N`)
//             same threads, micro-batch and flash attention per part as ours ran. llama-bench runs with
//             --no-warmup for the prefill: its warm-up in this tree is a whole extra prefill of N tokens, and
//             ours runs cold too.
//   llama-mtmd-cli  the same photo, prompt and grammar with llama.cpp's own tiling (anyres tiles + overview, no
//             unpadding: up to 36 + 1 tiles of 729 tokens on the 0.5B), same threads / micro-batch, flash
//             attention off (its one switch covers both parts; on, its encoder is slower here and its prefill
//             faster, BENCHMARKS.md), no warm-up, a context sized for its largest tiling; its image tokens read from its
//             log. Once per size unless --cli-runs: at 4032x3024 one run is a quarter of an hour on 2 cores.
//
//   batched encode  (--encode-only) the first size's encoder inputs through the encoder tile by tile and as one
//             graph (mtmd's batch API), and in graphs of each --encode-batches size, --runs rounds, each round
//             starting one path later: batchedEncodeVsTiles = median batched / median tile by tile; with the
//             one-tile rate alone, minutes, not an hour.
//
// Ours vs the floor per size (wall / floor); photoVsFloor is the worst size's ratio. Generated tokens differ
// between ours and llama-mtmd-cli wherever the image tokens differ (another prompt), so its decode is its own.

import { existsSync } from 'node:fs';
import path from 'node:path';

import { CPU_UBATCH } from '../../lib/runtime/VisionContext.js';
import { type BenchSettings, f0, f1, load1, log, median, mustRunChild } from './common.js';
import { writePhotoLikePng } from './image.js';
import type { Pair } from './lib/bench-pairs.js';
import { guardSpec } from './modes.js';
import { measurePhotoFloor, runCliPhoto } from './photos-llama-cpp.js';
import type { GuardResult } from './run-guard.js';
import type { BatchedEncodeResult, PhotoPlan, TileEncodeResult, TileEncodeSpec } from './run-tile-encode.js';

export { photosJson, photosReport } from './photos-report.js';

export const DEFAULT_PHOTO_SIZES = '741x500,1024x768,4032x3024';

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
    /** the flash attention this run's library chose (or was given): text model / encoder */
    flashAttention: { text: string; vision: string };
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
    /** ours' flash attention (text model, encoder) in most runs: given, or the library's measured choice; the floor's too */
    flashAttention: { text: string; vision: string };
    /** ours' runs whose measured choice differed from that, as "WxH run i: text X, encoder Y" */
    flashAttentionOutliers: string[];
    loads: number[];
    sizes: PhotoFigures[];
    photoVsFloor: number;
    /** --encode-only */
    batchedEncode?: BatchedEncodeResult;
    /** median batched / median tile by tile, same tiles, same process */
    batchedEncodeVsTiles?: number;
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
    /** only the one-tile rate and the batched encode, no verdicts */
    encodeOnly?: boolean;
    /** with encodeOnly: more graph sizes to time against tile by tile, besides the whole photo's */
    encodeBatches?: number[];
    /** both parts' flash attention for ours and the floor; omitted: the library measures it, as by default */
    flashAttention?: 'on' | 'off';
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
        flashAttention: { text: r.flashAttention.text, vision: r.flashAttention.vision ?? '-' },
    };
}

/** The choice most runs made (the first on a tie). */
function mostCommon(values: string[]): string {
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
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
        ...(input.flashAttention ? { mmprojFlashAttention: input.flashAttention } : {}),
        sizes,
        warmup: 1,
        repeat: S.runs,
        ...(input.encodeOnly ? { batch: { runs: S.runs, sizes: input.encodeBatches ?? [] } } : {}),
    } satisfies TileEncodeSpec);
    const batchedEncode = enc.batched;
    const batchedEncodeVsTiles = batchedEncode
        ? median(batchedEncode.batchedMs) / median(batchedEncode.tileByTileMs)
        : undefined;
    if (batchedEncode) {
        log(
            `  ${batchedEncode.tiles} tiles tile by tile ${batchedEncode.tileByTileMs.map(f0).join(', ')} ms, as one graph ${batchedEncode.batchedMs.map(f0).join(', ')} ms: batchedEncodeVsTiles ${batchedEncodeVsTiles!.toFixed(3)}; peak RSS ${f0(batchedEncode.peakRssTileByTileMiB)} -> ${f0(batchedEncode.peakRssBatchedMiB)} MiB`,
        );
        for (const o of batchedEncode.otherSizes)
            log(
                `  in graphs of ${o.batch}: ${o.ms.map(f0).join(', ')} ms, ${(median(o.ms) / median(batchedEncode.tileByTileMs)).toFixed(3)} of tile by tile`,
            );
    }
    const tileMs = median(enc.encodeMs);
    log(
        `  one ${enc.tileSide}x${enc.tileSide} tile (${enc.tileTokens} tokens, encoder flash attention ${enc.mmprojFlashAttention}): ${enc.encodeMs.map(f0).join(', ')} ms; plans: ${enc.plans.map((p) => `${p.width}x${p.height} ${p.tiles} tiles / ${p.imageTokens} tokens`).join('; ')}`,
    );

    // llama-mtmd-cli's context: llama.cpp's largest tiling, the prompt's text (our first run's prompt tokens less
    // its image tokens) and the answer, in whole pages of 256 cells
    let cliContext = 0;
    const tile = { side: enc.tileSide, tokens: enc.tileTokens, encodeMs: enc.encodeMs, medianMs: tileMs };

    const ours: OursPhotoRun[][] = sizes.map(() => []);
    const runs = input.encodeOnly ? 0 : S.runs;
    const cli: CliPhotoRun[][] = sizes.map(() => []);
    const snapshot = () => ({ tile, cliContext, oursRuns: ours, cliRuns: cli, loads });
    for (let i = 0; i < runs; i++) {
        for (const [k, s] of sizes.entries()) {
            const label = `${s.width}x${s.height} ${i + 1}/${S.runs}`;
            loads.push(load1());
            log(`photo ${label}: ours (faithful) ... (load average ${load1().toFixed(2)})`);
            const r = await mustRunChild<GuardResult>('run-guard.ts', {
                ...guardSpec(S, pair, 'full', [files[k]!]),
                imagePipeline: 'faithful',
                flashAttention: input.flashAttention,
            });
            if (r.imagePipeline !== 'onevision-anyres')
                throw new Error(`our run used the '${r.imagePipeline}' pipeline, not the faithful OneVision one`);
            const o = oursRun(r);
            ours[k]!.push(o);
            log(
                `  ours ${f0(o.totalMs)} ms (flash attention: text ${o.flashAttention.text}, encoder ${o.flashAttention.vision}): encode ${f0(o.encodeMs)}, prefill ${f0(o.prefillMs)} (${o.promptTokens} tokens, ${o.imageTokens} image), decode ${f0(o.decodeMs)} (${o.generated} tokens), other ${f0(o.otherMs)}`,
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

    // The floor is priced with the choice most of ours' runs made; runs that chose otherwise are listed.
    const all = ours.flatMap((runs, k) =>
        runs.map((o, i) => ({ o, label: `${sizes[k]!.width}x${sizes[k]!.height} run ${i + 1}` })),
    );
    const flashAttention = {
        text: all.length ? mostCommon(all.map((x) => x.o.flashAttention.text)) : '-',
        vision: all.length ? mostCommon(all.map((x) => x.o.flashAttention.vision)) : (enc.mmprojFlashAttention ?? '-'),
    };
    const flashAttentionOutliers = all
        .filter(
            (x) =>
                x.o.flashAttention.text !== flashAttention.text || x.o.flashAttention.vision !== flashAttention.vision,
        )
        .map((x) => `${x.label}: text ${x.o.flashAttention.text}, encoder ${x.o.flashAttention.vision}`);
    if (enc.mmprojFlashAttention !== undefined && all.length && enc.mmprojFlashAttention !== flashAttention.vision)
        flashAttentionOutliers.push(`the lone tile's encoder: ${enc.mmprojFlashAttention}`);
    for (const x of flashAttentionOutliers)
        log(
            `note: flash attention differs from most runs' (text ${flashAttention.text}, encoder ${flashAttention.vision}): ${x}`,
        );

    const out: PhotoFigures[] = [];
    for (const [k, s] of sizes.entries()) {
        if (!ours[k]!.length) continue;
        const o = medianOf(ours[k]!);
        const c = cli[k]!.length ? medianOf(cli[k]!) : undefined;
        const promptTokens = Math.round(o.promptTokens);
        const generated = Math.round(o.generated);
        log(
            `photo ${s.width}x${s.height}: floor (llama-bench -p ${promptTokens} -n 0; -n ${generated} -d ${promptTokens}) ...`,
        );
        loads.push(load1());
        const floor = await measurePhotoFloor(S, pair.model, enc.plans[k]!, tileMs, promptTokens, generated, {
            flashAttention: flashAttention.text === 'on',
        });
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
        flashAttention,
        flashAttentionOutliers,
        loads,
        sizes: out,
        photoVsFloor: out.length ? Math.max(...out.map((f) => f.oursVsFloor)) : Number.NaN,
        ...(batchedEncode ? { batchedEncode, batchedEncodeVsTiles } : {}),
    };
}
