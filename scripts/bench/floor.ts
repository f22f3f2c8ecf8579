// The floor of one assessment: what llama.cpp itself needs for the prefill alone. llama-bench measures the
// prefill rate of the same text model with the same threads / batch / ubatch / flash attention, for a prompt of
// as many tokens as ours (image + text), and
//   floor = (image + prompt tokens) / prefill rate + image encode time
// (the image encode is the vision tower, which llama-bench does not run: taken from the assessments' own
// measurements, the lower of ours and llama-mtmd-cli's medians). Score mode and rationale: false do little
// more than this prefill, so their time over the floor is their overhead. The micro-batch is the one the modes
// run with (our CPU default), so a better default does not count as less overhead.

import { f0, f1, mdTable, median, type BenchSettings } from './common.js';
import { rowTokS, runLlamaBench } from './llama-bench.js';

export interface Floor {
    promptTokens: number;
    prefillTokS: number;
    prefillMs: number;
    imageEncodeMs: number;
    floorMs: number;
    peakRssMiB: number;
    samplesTokS: number[];
    args: string[];
    ubatch: number;
}

export async function measureFloor(
    s: BenchSettings,
    model: string,
    promptTokens: number,
    imageEncodeMs: number,
    ubatch: number,
): Promise<Floor> {
    const r = await runLlamaBench(s.llamaBench, [
        '-m',
        model,
        '-p',
        String(promptTokens),
        '-n',
        '0',
        '-t',
        String(s.threads),
        '-b',
        String(s.batch),
        '-ub',
        String(ubatch),
        '-fa',
        '0',
        '-r',
        String(Math.max(3, s.runs)),
    ]);
    const row = r.rows.find((x) => x.n_prompt === promptTokens && x.n_gen === 0)!;
    const prefillTokS = rowTokS(row);
    const prefillMs = (1000 * promptTokens) / prefillTokS;
    return {
        promptTokens,
        prefillTokS,
        prefillMs,
        imageEncodeMs,
        floorMs: prefillMs + imageEncodeMs,
        peakRssMiB: r.peakRssMiB,
        samplesTokS: row.samples_ts,
        args: r.args,
        ubatch,
    };
}

export function floorTable(f: Floor, threads: number): string {
    return [
        `### Floor: llama-bench prefill of the same text model (${threads} threads, flash attention off, -ub ${f.ubatch} (the modes' micro-batch), -p ${f.promptTokens} -n 0, ${f.samplesTokS.length} repetitions) + image encode`,
        '',
        mdTable(
            ['', 'value'],
            [
                ['prompt tokens (image + text), as in the assessments', f0(f.promptTokens)],
                ['llama-bench prefill rate (tokens/s, median)', f1(f.prefillTokS)],
                ['prefill at that rate (ms)', f0(f.prefillMs)],
                ['image encode (ms; lower of ours and llama-mtmd-cli, medians)', f0(f.imageEncodeMs)],
                ['**floor per assessment (ms)**', `**${f0(f.floorMs)}**`],
                ['llama-bench peak RSS (MiB)', f0(f.peakRssMiB)],
            ],
        ),
        '',
        `llama-bench samples (tokens/s): ${f.samplesTokS.map((x) => x.toFixed(1)).join(', ')} (median ${f1(median(f.samplesTokS))})`,
    ].join('\n');
}
