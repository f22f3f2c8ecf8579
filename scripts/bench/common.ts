// Small helpers shared by the benchmark modules (scripts/bench/overhead.ts and the sections it runs).

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(benchDir, '../..');

/** The settings every section shares (from overhead.ts's command line). */
export interface BenchSettings {
    threads: number;
    ctx: number;
    batch: number;
    ubatch: number;
    temp: number;
    topK: number;
    topP: number;
    seed: number;
    maxTokens: number;
    rationaleChars: number;
    /** How the verdict grammar holds the layout (AssessOptions.layoutTokens) */
    layoutTokens: 'canonical' | 'any';
    runs: number;
    /** llama-mtmd-cli and llama-bench */
    cli: string;
    llamaBench: string;
}

export function log(s: string): void {
    process.stderr.write(`${s}\n`);
}

/** 1-minute load average: the machine may be shared, so sections record how busy it was. */
export const load1 = () => os.loadavg()[0]!;

export const mib = (b: number) => (b / 1048576).toFixed(0);

export const median = (xs: number[]) => {
    const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    if (s.length === 0) return NaN;
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
export const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
export const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
export const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');

/** A markdown table. */
export function mdTable(head: string[], rows: string[][]): string {
    const align = head.map((_, i) => (i === 0 ? '---' : '---:'));
    return [head, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function vmHwmMiB(pid: number | 'self'): number | undefined {
    try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Number(m[1]) / 1024 : undefined;
    } catch {
        return undefined;
    }
}

/** Polls a child's peak RSS (VmHWM) every periodMs and kills it after timeoutMs; stop() ends both, giving the peak. */
export function watchPeakRss(child: ChildProcess, periodMs: number, timeoutMs: number): { stop(): number } {
    let peak = 0;
    const poll = setInterval(() => {
        const v = child.pid !== undefined ? vmHwmMiB(child.pid) : undefined;
        if (v !== undefined && v > peak) peak = v;
    }, periodMs);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    return {
        stop: () => {
            clearInterval(poll);
            clearTimeout(timer);
            return peak;
        },
    };
}

export interface ChildResult<T> {
    ok: boolean;
    result?: T;
    error?: string;
}

/**
 * Runs one of the bench's child scripts (run-ours.ts, run-guard.ts, run-encode.ts) in a fresh node process
 * with the TypeScript loader, passing `spec` as JSON; the child prints one line `BENCH_RESULT {json}`.
 */
export async function runChild<T>(script: string, spec: unknown): Promise<ChildResult<T>> {
    const child = spawn(
        process.execPath,
        ['--import', '@tapjs/typescript/import', path.join(benchDir, script), JSON.stringify(spec)],
        {
            cwd: repoRoot,
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
            stdio: ['ignore', 'pipe', 'pipe'],
        },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    if (code !== 0 || !line) return { ok: false, error: `${script} exit ${code}: ${err.slice(-3000)}` };
    return { ok: true, result: JSON.parse(line.slice('BENCH_RESULT '.length)) as T };
}

/** runChild, throwing when the child failed. */
export async function mustRunChild<T>(script: string, spec: unknown): Promise<T> {
    const r = await runChild<T>(script, spec);
    if (!r.ok) throw new Error(r.error);
    return r.result!;
}

/** For the child scripts: the spec runChild passed them (JSON in argv[2]). */
export function childSpec<T>(): T {
    return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** For the child scripts: what load() gives and how long it took (reported beside, never inside, a timed figure). */
export async function timedLoad<T>(load: () => Promise<T>): Promise<{ loaded: T; loadMs: number }> {
    const t0 = performance.now();
    const loaded = await load();
    return { loaded, loadMs: performance.now() - t0 };
}

/** The options given, without those left undefined: the library's own defaults apply to them. */
export function givenOptions<T extends object>(options: T): Partial<T> {
    return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** For the child scripts: the one result line runChild reads back. */
export function childResult(result: unknown): void {
    process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}

/** What every timed child reports beside its own figures: the load, memory and the timed part's clocks. */
export interface ChildMeasures {
    loadMs: number;
    /** RSS before the model loads (node + the TypeScript loader + our modules) */
    baseRssMiB: number;
    peakRssMiB: number;
    /** the whole timed part */
    wallMs: number;
    cpuMs: number;
}

/** For the child scripts: VmHWM / VmRSS of this process in MiB. */
export function selfStatusMiB(field: 'VmHWM' | 'VmRSS'): number {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
}
