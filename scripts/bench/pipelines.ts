// The cost of each image pipeline (lib/pipeline) on a larger photo: transformers' OneVision layout (faithful:
// overview + unpadded tile grid + newlines, each tile through the encoder), the overview alone (fast), and
// llama.cpp's own tiling (tiles + overview, no unpadding). score() is the measure: image preparation, encode and
// prefill of the whole prompt, a few scoring passes, no generation. One fresh process per pipeline.

import { f0, f1, f3, log, mdTable, mustRunChild, type BenchSettings } from './common.js';
import { guardSpec } from './modes.js';
import type { GuardResult } from './run-guard.js';

const PIPELINES = ['faithful', 'fast', 'llama.cpp'] as const;

export interface PipelineFigures {
    mode: (typeof PIPELINES)[number];
    pipeline: string;
    wallMs: number;
    imageTokens: number;
    promptTokens: number;
    imageMs: number;
    promptMs: number;
    peakRssMiB: number;
}

export async function runPipelines(
    s: BenchSettings,
    pair: { model: string; mmproj: string },
    image: string,
): Promise<PipelineFigures[]> {
    const out: PipelineFigures[] = [];
    for (const mode of PIPELINES) {
        const r = await mustRunChild<GuardResult>('run-guard.ts', {
            ...guardSpec(s, pair, 'score', [image]),
            imagePipeline: mode,
        });
        const c = r.calls[0]!;
        out.push({
            mode,
            pipeline: r.imagePipeline,
            wallMs: c.wallMs,
            imageTokens: c.imageTokens,
            promptTokens: c.promptTokens,
            imageMs: c.imageMs,
            promptMs: c.promptMs,
            peakRssMiB: r.peakRssMiB,
        });
        log(`  pipeline ${mode} (${r.imagePipeline}): ${f0(c.wallMs)} ms, ${c.imageTokens} image tokens`);
    }
    return out;
}

export function pipelinesTable(rows: PipelineFigures[], imageLabel: string, threads: number): string {
    const faithful = rows.find((r) => r.mode === 'faithful')!;
    return [
        `### Image pipelines on a ${imageLabel} photo (score(): preparation + encode + prefill, ${threads} threads, one run each)`,
        '',
        mdTable(
            [
                'pipeline',
                'image tokens',
                'prompt tokens',
                'image prep + encode (ms)',
                'prompt eval (ms)',
                'prompt eval (tokens/s)',
                'total (ms)',
                'vs faithful',
                'peak RSS (MiB)',
            ],
            rows.map((r) => [
                `${r.mode} (${r.pipeline})`,
                f0(r.imageTokens),
                f0(r.promptTokens),
                f0(r.imageMs),
                f0(r.promptMs),
                f1((1000 * r.promptTokens) / r.promptMs),
                f0(r.wallMs),
                f3(r.wallMs / faithful.wallMs),
                f0(r.peakRssMiB),
            ]),
        ),
    ].join('\n');
}
