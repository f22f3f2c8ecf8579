// The llama.cpp side of `npm run bench -- --photos` (photos.ts): llama-mtmd-cli's verdict on a photo with its own
// tiling, and the floor that llama-bench implies for our work; each runs llama.cpp's own tools as child processes.

import { CPU_UBATCH } from '../../lib/runtime/VisionContext.js';
import type { BenchSettings } from './common.js';
import { cliArgs } from './lib/side-by-side.js';
import { rowTokS, runLlamaBench } from './llama-bench.js';
import { runMtmdCliComplete } from './mtmd-cli.js';
import type { CliPhotoRun, PhotoBenchInput, PhotoFloor } from './photos.js';
import type { PhotoPlan } from './run-tile-encode.js';

/** Per process: one 4032x3024 verdict through llama-mtmd-cli is ~10 min on a quiet 2-core host, more on a busy one. */
const CLI_TIMEOUT_MS = 120 * 60_000;
const LLAMA_BENCH_TIMEOUT_MS = 120 * 60_000;

/** llama-mtmd-cli's arguments for a photo: our settings (side-by-side's matched set), a context for its largest tiling. */
function photoCliArgs(input: PhotoBenchInput, image: string, ctx: number): string[] {
    const S = { ...input.S, ctx, ubatch: CPU_UBATCH };
    return cliArgs(S, input.pair, image, input.prompt, input.grammarFile, true);
}

export async function runCliPhoto(input: PhotoBenchInput, image: string, ctx: number): Promise<CliPhotoRun> {
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

export async function measurePhotoFloor(
    S: BenchSettings,
    model: string,
    plan: PhotoPlan,
    tileEncodeMs: number,
    promptTokens: number,
    generated: number,
    /** the text model's flash attention, as ours ran it */
    text: { flashAttention: boolean },
): Promise<PhotoFloor> {
    const fa = text.flashAttention ? '1' : '0';
    const common = ['-m', model, '-t', String(S.threads), '-b', String(S.batch), '-ub', String(CPU_UBATCH), '-fa', fa];
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
