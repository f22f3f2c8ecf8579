// Runs llama.cpp's own build/bin/llama-bench (same llama.cpp tree as the addon) with `-o json` and returns its
// result rows, plus the process's peak RSS (VmHWM, polled).

import { spawn } from 'node:child_process';

import { watchPeakRss } from './common.js';

/** One llama-bench test (the fields used here; llama-bench prints more). */
export interface LlamaBenchRow {
    model_type: string;
    model_size: number;
    n_threads: number;
    n_batch: number;
    n_ubatch: number;
    n_gpu_layers: number;
    flash_attn: boolean | number;
    type_k: string;
    type_v: string;
    n_prompt: number;
    n_gen: number;
    n_depth: number;
    avg_ts: number;
    stddev_ts: number;
    samples_ts: number[];
    samples_ns: number[];
}

export interface LlamaBenchRun {
    rows: LlamaBenchRow[];
    peakRssMiB: number;
    wallMs: number;
    args: string[];
}

export async function runLlamaBench(bin: string, args: string[], timeoutMs = 30 * 60_000): Promise<LlamaBenchRun> {
    const full = [...args, '-o', 'json'];
    const t0 = performance.now();
    const child = spawn(bin, full, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const watch = watchPeakRss(child, 100, timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const peak = watch.stop();
    if (code !== 0) throw new Error(`llama-bench ${full.join(' ')} exited ${code}:\n${err.slice(-3000)}`);
    const start = out.indexOf('[');
    const rows = JSON.parse(out.slice(start)) as LlamaBenchRow[];
    return { rows, peakRssMiB: peak, wallMs: performance.now() - t0, args: full };
}

/** Tokens/s of a row: the median of its samples (llama-bench's avg_ts is the mean). */
export function rowTokS(r: LlamaBenchRow): number {
    const s = [...(r.samples_ts ?? [r.avg_ts])].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Devices llama-bench sees besides the CPU (empty on a CPU-only build). */
export async function listDevices(bin: string): Promise<string[]> {
    const child = spawn(bin, ['--list-devices'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    await new Promise((resolve) => child.on('close', resolve));
    return out
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^[A-Za-z]+\d+:/.test(l));
}
