// LlavaGuard's modes through the library (scripts/bench/run-guard.ts, a fresh process per run): the full
// verdict, `rationale: false` and `score`, each against the floor (scripts/bench/floor.ts).

import { f0, f1, f3, log, mdTable, median, mustRunChild, type BenchSettings } from './common.js';
import type { Floor } from './floor.js';
import type { GuardMode, GuardResult, GuardSpec } from './run-guard.js';

export interface ModeFigures {
    mode: GuardMode;
    runs: number;
    wallMs: number;
    imageMs: number;
    promptMs: number;
    afterPromptMs: number;
    promptTokens: number;
    imageTokens: number;
    generated: number;
    peakRssMiB: number;
    loadMs: number;
    rating: string;
    category: string | null;
    perRunMs: number[];
}

export function guardSpec(
    s: BenchSettings,
    pair: { model: string; mmproj: string },
    mode: GuardMode,
    images: string[],
    sequences = 1,
): GuardSpec {
    return {
        mode,
        model: pair.model,
        mmproj: pair.mmproj,
        images,
        threads: s.threads,
        sequences,
        temperature: s.temp,
        topK: s.topK,
        topP: s.topP,
        seed: s.seed,
        maxTokens: s.maxTokens,
        maxRationaleChars: s.rationaleChars,
        layoutTokens: s.layoutTokens,
        // the same image tokens as llama-mtmd-cli and the floor (one 729-token chunk for the 384 px photo); the cost of
        // the faithful pipeline is its own table (pipelines.ts)
        imagePipeline: 'llama.cpp',
        // the floor's llama-bench runs with -fa 0 (and mtmd-cli's matched runs with -fa off): the same here, so the
        // ratios measure our overhead, not a flash-attention choice (the defaults runs show that)
        flashAttention: 'off',
    };
}

const MODES: GuardMode[] = ['full', 'noRationale', 'score'];
export const MODE_LABEL: Record<GuardMode, string> = {
    full: 'assess() (full verdict, jump-forward on)',
    noRationale: 'assess({ rationale: false })',
    score: 'score()',
    throughput: 'assess() x N',
};

/** RUNS runs of each mode, interleaved (full, noRationale, score, full, ...), each a fresh process. */
export async function runModes(
    s: BenchSettings,
    pair: { model: string; mmproj: string },
    image: string,
): Promise<Record<string, ModeFigures>> {
    const results: Record<string, GuardResult[]> = {};
    for (let i = 0; i < s.runs; i++) {
        for (const mode of MODES) {
            const r = await mustRunChild<GuardResult>('run-guard.ts', guardSpec(s, pair, mode, [image]));
            results[mode] ??= [];
            results[mode].push(r);
            log(
                `  ${mode} ${i + 1}/${s.runs}: ${f0(r.wallMs)} ms (${r.calls[0]!.rating}, ${r.calls[0]!.generated ?? 0} tokens)`,
            );
        }
    }
    const out: Record<string, ModeFigures> = {};
    for (const mode of MODES) {
        const rs = results[mode]!;
        const m = (f: (c: GuardResult['calls'][number], r: GuardResult) => number) =>
            median(rs.map((r) => f(r.calls[0]!, r)));
        out[mode] = {
            mode,
            runs: rs.length,
            wallMs: m((c) => c.wallMs),
            imageMs: m((c) => c.imageMs),
            promptMs: m((c) => c.promptMs),
            afterPromptMs: m((c) => c.afterPromptMs),
            promptTokens: m((c) => c.promptTokens),
            imageTokens: m((c) => c.imageTokens),
            generated: m((c) => c.generated ?? 0),
            peakRssMiB: m((_, r) => r.peakRssMiB),
            loadMs: m((_, r) => r.loadMs),
            rating: rs[0]!.calls[0]!.rating,
            category: rs[0]!.calls[0]!.category,
            perRunMs: rs.map((r) => r.calls[0]!.wallMs),
        };
    }
    return out;
}

export function modesTable(modes: Record<string, ModeFigures>, floor: Floor, threads: number): string {
    const cols = MODES.map((m) => modes[m]!);
    const row = (name: string, f: (m: ModeFigures) => string) => [name, ...cols.map(f)];
    return [
        `### LlavaGuard modes (LlavaGuard.load({ model, mmproj, threads: ${threads} }), library defaults otherwise; median of ${cols[0]!.runs} runs each, each a fresh process)`,
        '',
        mdTable(
            ['', ...MODES.map((m) => MODE_LABEL[m])],
            [
                row('wall time per verdict (ms)', (m) => f0(m.wallMs)),
                row('**over the floor**', (m) => `**${f3(m.wallMs / floor.floorMs)}**`),
                row('image encode (ms)', (m) => f0(m.imageMs)),
                row('prompt eval (ms)', (m) => f0(m.promptMs)),
                row('prompt tokens (text + image)', (m) => f0(m.promptTokens)),
                row('prompt eval (tokens/s)', (m) => f1((1000 * m.promptTokens) / m.promptMs)),
                row('after the prompt: decode / scoring (ms)', (m) => f0(m.afterPromptMs)),
                row('generated tokens', (m) => (m.mode === 'score' ? '- (scored)' : f0(m.generated))),
                row('peak RSS (MiB)', (m) => f0(m.peakRssMiB)),
                row('load, excluded (ms)', (m) => f0(m.loadMs)),
                row('verdict of the first run', (m) => `${m.rating} / ${m.category ?? '-'}`),
            ],
        ),
        '',
        `per run (ms): ${cols.map((m) => `${m.mode} ${m.perRunMs.map(f0).join(', ')}`).join('; ')}`,
        `targets: score <= 1.10x the floor (${f3(modes.score!.wallMs / floor.floorMs)}), rationale: false <= 1.15x (${f3(modes.noRationale!.wallMs / floor.floorMs)})`,
    ].join('\n');
}
