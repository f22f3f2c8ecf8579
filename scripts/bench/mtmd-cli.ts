// Runs llama.cpp's own build/bin/llama-mtmd-cli once and reads its timings from its log.
//
// Method: llama-mtmd-cli loads the model and the mmproj (and warms them up unless --no-warmup), logs
// "WARN: This is an experimental CLI ..." and then does the one assessment: load the image file, tokenize, encode
// the image, prefill, generate, then llama_perf_context_print. With --log-timestamps every log line carries the
// time since the process started (taken when the line is logged, not when the log thread prints it), so
//   wall = t(first llama_perf_context_print line) - t(WARN line)
// is the assessment alone, model loading excluded. (It includes decoding the PNG with stb_image, a few ms for
// 384x384, which our side does before its timer starts.) Components come from the tool's own printouts:
//   image encode = sum of "mtmd batch encoding done in X ms"
//   prefill      = llama_perf "prompt eval time", with its token count (text + image tokens). llama.cpp's perf
//                  clock starts at the first llama_decode after a synchronize and stops at the next synchronize,
//                  which is the first sampling: so this window is the whole prefill, the text chunks, the image
//                  ENCODE in between (mtmd does not synchronize the llama context) and the image-embedding
//                  decode. Prompt eval proper = prefill - image encode.
//   eval         = llama_perf "eval time" (one-token decodes of generated tokens; sampling not included)
//   generation   = wall - prefill (sampling included; also the few ms before the first decode: PNG decoding,
//                  tokenization)
// CPU time: the driver samples /proc/<pid>/stat (utime + stime) when the WARN line and the first
// llama_perf_context_print line arrive on the pipe (within a few ms of being logged).

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { watchPeakRss } from './common.js';

export interface MtmdCliRun {
    ok: boolean;
    exitCode: number | null;
    /** the assessment, model loading excluded (see above) */
    wallMs: number;
    /** process start to exit */
    processMs: number;
    /** process start to the WARN line: loading and warm-up */
    loadMs: number;
    imageMs: number;
    imageDecodeMs: number;
    /** llama_perf prompt eval time: the whole prefill window, image encode included (see above) */
    prefillMs: number;
    /** prefill - image encode */
    promptEvalMs: number;
    /** CPU time (user + system, all threads) of the assessment window */
    cpuMs: number;
    /** the window timed by this process's clock as the two lines arrived */
    arrivalWallMs: number;
    promptTokens: number;
    evalMs: number;
    evalRuns: number;
    imageChunks: number;
    /** image tokens decoded into the context: the sum of mtmd-helper's "decoding image batch ..., n_tokens_batch = N" */
    imageTokens: number;
    text: string;
    peakRssMiB: number;
    args: string[];
    logTail: string;
}

/** "M.SS.mmm.uuu" (common_log's timestamp) -> ms */
function tsMs(ts: string): number {
    const [m, s, ms, us] = ts.split('.').map(Number) as [number, number, number, number];
    return (m * 60 + s) * 1000 + ms + us / 1000;
}

function findTs(lines: string[], re: RegExp): number | undefined {
    for (const l of lines) {
        if (re.test(l)) {
            const m = /^(\d+\.\d{2}\.\d{3}\.\d{3}) /.exec(l);
            if (m) return tsMs(m[1]!);
        }
    }
    return undefined;
}

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux

function cpuMsOf(pid: number): number | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // fields 14 and 15 of stat(5): utime, stime (f[0] is field 3)
        return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
    } catch {
        return undefined;
    }
}

export async function runMtmdCli(bin: string, args: string[], timeoutMs = 20 * 60_000): Promise<MtmdCliRun> {
    const t0 = performance.now();
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let at: { t: number; cpu: number } | undefined;
    let until: { t: number; cpu: number } | undefined;
    const sample = () => ({ t: performance.now(), cpu: (child.pid !== undefined && cpuMsOf(child.pid)) || NaN });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (!at && d.includes('WARN: This is an experimental CLI')) at = sample();
        if (at && !until && d.includes('llama_perf_context_print')) until = sample();
    });
    const watch = watchPeakRss(child, 200, timeoutMs);
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const peak = watch.stop();
    const processMs = performance.now() - t0;
    const lines = stderr.split('\n');
    const start = findTs(lines, /WARN: This is an experimental CLI/);
    const end = findTs(lines, /llama_perf_context_print:\s+load time/);
    const num = (re: RegExp) => {
        const m = re.exec(stderr);
        return m ? Number(m[1]) : NaN;
    };
    const sum = (re: RegExp) => [...stderr.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
    const ok = exitCode === 0 && start !== undefined && end !== undefined;
    const imageMs = sum(/mtmd batch encoding done in (\d+) ms/g);
    const prefillMs = num(/prompt eval time =\s+([\d.]+) ms/);
    return {
        ok,
        exitCode,
        wallMs: start !== undefined && end !== undefined ? end - start : NaN,
        processMs,
        loadMs: start ?? NaN,
        imageMs,
        imageDecodeMs: sum(/image decoded \(batch \d+\/\d+\) in (\d+) ms/g),
        prefillMs,
        promptEvalMs: prefillMs - imageMs,
        cpuMs: at && until ? until.cpu - at.cpu : NaN,
        arrivalWallMs: at && until ? until.t - at.t : NaN,
        promptTokens: num(/prompt eval time =\s+[\d.]+ ms \/\s+(\d+) tokens/),
        evalMs: num(/print:\s+eval time =\s+([\d.]+) ms/),
        evalRuns: num(/print:\s+eval time =\s+[\d.]+ ms \/\s+(\d+) runs/),
        imageChunks: [...stderr.matchAll(/mtmd batch encoding done in/g)].length,
        imageTokens: sum(/decoding image batch \d+\/\d+, n_tokens_batch = (\d+)/g),
        // stdout: "\n" after the prompt, the generated pieces, then "\n" and "\n\n"
        text: stdout.replace(/^\n/, '').replace(/\n+$/, ''),
        peakRssMiB: peak,
        args,
        logTail: ok ? '' : stderr.split('\n').slice(-40).join('\n'),
    };
}

/**
 * runMtmdCli, run again (up to `tries` times) when the process exited 0 but its log came back without the
 * llama_perf lines: on a heavily loaded machine llama-mtmd-cli's log thread sometimes has not written its last
 * lines when the process exits.
 */
export async function runMtmdCliComplete(
    bin: string,
    args: string[],
    tries = 3,
    timeoutMs?: number,
): Promise<MtmdCliRun> {
    let r: MtmdCliRun;
    for (let i = 1; ; i++) {
        r = await runMtmdCli(bin, args, timeoutMs);
        const complete =
            r.ok && Number.isFinite(r.promptTokens) && Number.isFinite(r.evalRuns) && Number.isFinite(r.prefillMs);
        if (complete || r.exitCode !== 0 || i >= tries) return r;
        process.stderr.write(
            `  llama-mtmd-cli's log came back incomplete (exit 0): running it again (${i + 1}/${tries})\n`,
        );
    }
}
