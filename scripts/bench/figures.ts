// Per-run figures of one assessment, derived the same way for our addon (scripts/bench/run-ours.ts) and for
// llama-mtmd-cli (scripts/bench/mtmd-cli.ts), and the side-by-side table of them.

import { f0, f1, f3, median } from './common.js';
import type { MtmdCliRun } from './mtmd-cli.js';

export interface OursRun {
    wallMs: number;
    cpuMs: number;
    text: string;
    tokens: number[];
    stopReason: string;
    promptTokens: number;
    imageTokens: number;
    forwardPasses: { prefill: number; decode: number };
    forcedTokens?: number;
    draftTokens?: { proposed: number; accepted: number };
    timings: { imageMs: number; promptMs: number; decodeMs: number; totalMs: number };
}

export interface OursResult {
    ok: boolean;
    loadMs: number;
    peakRssMiB: number;
    baseRssMiB?: number;
    runs: OursRun[];
    context?: unknown;
    /** the flash attention each part ran with and how it was chosen (FlashAttentionChoice) */
    flashAttention?: { text: { value: string; source: string }; vision?: { value: string; source: string } };
    error?: string;
}

export interface Figures {
    wallMs: number;
    imageMs: number;
    promptMs: number;
    promptTokens: number;
    promptTokS: number;
    /** wall - image - prompt: the generation phase, sampling included */
    decodePhaseMs: number;
    generated: number;
    /** llama_decode calls after the prompt */
    decodePasses: number;
    decodeTokS: number;
    /** user + system CPU time of the assessment, all threads: less sensitive than wall time to other load */
    cpuMs: number;
    peakRssMiB: number;
    loadMs: number;
}

export function oursFigures(r: OursRun, res: OursResult): Figures {
    const promptMs = r.timings.promptMs;
    const decodePhaseMs = r.wallMs - r.timings.imageMs - promptMs;
    return {
        wallMs: r.wallMs,
        imageMs: r.timings.imageMs,
        promptMs,
        promptTokens: r.promptTokens,
        promptTokS: (1000 * r.promptTokens) / promptMs,
        decodePhaseMs,
        generated: r.tokens.length,
        decodePasses: r.forwardPasses.decode,
        decodeTokS: (1000 * r.tokens.length) / decodePhaseMs,
        cpuMs: r.cpuMs,
        peakRssMiB: res.peakRssMiB,
        loadMs: res.loadMs,
    };
}

export function cliFigures(r: MtmdCliRun): Figures {
    // llama_perf's prompt-eval window is the whole prefill, image encode included (see mtmd-cli.ts)
    const decodePhaseMs = r.wallMs - r.prefillMs;
    return {
        wallMs: r.wallMs,
        imageMs: r.imageMs,
        promptMs: r.promptEvalMs,
        promptTokens: r.promptTokens,
        promptTokS: (1000 * r.promptTokens) / r.promptEvalMs,
        decodePhaseMs,
        // each generated token but the end-of-generation one is decoded once: eval runs = generated tokens
        generated: r.evalRuns,
        decodePasses: r.evalRuns,
        decodeTokS: (1000 * r.evalRuns) / decodePhaseMs,
        cpuMs: r.cpuMs,
        peakRssMiB: r.peakRssMiB,
        loadMs: r.loadMs,
    };
}

export function medianFigures(fs: Figures[]): Figures {
    const keys = Object.keys(fs[0] ?? {}) as Array<keyof Figures>;
    const out = {} as Figures;
    for (const k of keys) out[k] = median(fs.map((f) => f[k]));
    return out;
}

export function table(title: string, ours: Figures, cli: Figures, nOurs: number, nCli: number): string {
    const rows: Array<[string, (f: Figures) => string, number, number]> = [
        ['wall time per verdict (ms)', (f) => f0(f.wallMs), ours.wallMs, cli.wallMs],
        ['image encode (ms)', (f) => f0(f.imageMs), ours.imageMs, cli.imageMs],
        ['prompt eval (ms)', (f) => f0(f.promptMs), ours.promptMs, cli.promptMs],
        ['prompt tokens (text + image)', (f) => f0(f.promptTokens), ours.promptTokens, cli.promptTokens],
        ['prompt eval (tokens/s)', (f) => f1(f.promptTokS), ours.promptTokS, cli.promptTokS],
        ['generation phase incl. sampling (ms)', (f) => f0(f.decodePhaseMs), ours.decodePhaseMs, cli.decodePhaseMs],
        ['generated tokens', (f) => f0(f.generated), ours.generated, cli.generated],
        ['forward passes after the prompt', (f) => f0(f.decodePasses), ours.decodePasses, cli.decodePasses],
        [
            'forward passes per generated token',
            (f) => f3(f.decodePasses / f.generated),
            ours.decodePasses / ours.generated,
            cli.decodePasses / cli.generated,
        ],
        ['decode (tokens/s, incl. sampling)', (f) => f1(f.decodeTokS), ours.decodeTokS, cli.decodeTokS],
        ['CPU time, user + sys, all threads (ms)', (f) => f0(f.cpuMs), ours.cpuMs, cli.cpuMs],
        ['peak RSS (MiB)', (f) => f0(f.peakRssMiB), ours.peakRssMiB, cli.peakRssMiB],
        ['load, excluded (ms)', (f) => f0(f.loadMs), ours.loadMs, cli.loadMs],
    ];
    const lines = [
        `### ${title}`,
        '',
        `| median of ${nOurs} / ${nCli} runs | ours (addon) | llama-mtmd-cli | ours / cli |`,
        '|---|---:|---:|---:|',
    ];
    for (const [name, fmt, a, b] of rows) lines.push(`| ${name} | ${fmt(ours)} | ${fmt(cli)} | ${f3(a / b)} |`);
    return lines.join('\n');
}
