// Images per second for N distinct photo-like images (scripts/bench/image.ts, seeds 1..N): llama-mtmd-cli run
// once per image (matched settings, as in the overhead table), ours through LlavaGuard in one process: one
// assessment after another (sequences 1), and all N assess() calls at once with 2 and 4 sequence slots (the
// guard's batcher prefills the waiting prompts one after another and decodes their tokens in one batch).
// Loading is excluded on both sides; the cli's rate including its per-process loading is shown too.

import { existsSync } from 'node:fs';
import path from 'node:path';

import { f0, f2, f3, log, mdTable, median, mustRunChild, type BenchSettings } from './common.js';
import { writePhotoLikePng } from './image.js';
import { runMtmdCliComplete } from './mtmd-cli.js';
import { guardSpec } from './modes.js';
import type { GuardResult } from './run-guard.js';

export interface ThroughputFigures {
    label: string;
    images: number;
    /** median over rounds */
    imagesPerS: number;
    /** cli: including its model loading, once per image */
    imagesPerSWithLoad?: number;
    wallMs: number;
    peakRssMiB: number;
    /** verdicts (raw text) identical to ours sequential's, per image */
    sameAsSequential?: number;
    rounds: number[];
}

/** Writes (or reuses) the N test images: bench-photo-384-s<seed>.png, seeds 1..N (seed 1 = the usual picture). */
export async function photoSet(dir: string, n: number, size = 384): Promise<string[]> {
    const files: string[] = [];
    for (let seed = 1; seed <= n; seed++) {
        const f = path.join(dir, `bench-photo-${size}-s${seed}.png`);
        if (!existsSync(f)) await writePhotoLikePng(f, size, size, seed);
        files.push(f);
    }
    return files;
}

export async function runThroughput(
    s: BenchSettings,
    pair: { model: string; mmproj: string },
    images: string[],
    cliArgsFor: (image: string) => string[],
    rounds: number,
): Promise<ThroughputFigures[]> {
    const n = images.length;
    const cli = { walls: [] as number[], withLoad: [] as number[], peak: [] as number[] };
    const ours = new Map<number, { res: GuardResult[] }>();
    for (let round = 0; round < rounds; round++) {
        let sum = 0;
        let sumProcess = 0;
        let peak = 0;
        for (const image of images) {
            const c = await runMtmdCliComplete(s.cli, cliArgsFor(image));
            if (!c.ok) throw new Error(`llama-mtmd-cli failed (exit ${c.exitCode}):\n${c.logTail}`);
            sum += c.wallMs;
            sumProcess += c.processMs;
            peak = Math.max(peak, c.peakRssMiB);
        }
        cli.walls.push(sum);
        cli.withLoad.push(sumProcess);
        cli.peak.push(peak);
        log(
            `  throughput round ${round + 1}/${rounds}: llama-mtmd-cli ${n} images in ${f0(sum)} ms (${f0(sumProcess)} ms with loading)`,
        );
        for (const seqs of [1, 2, 4]) {
            const r = await mustRunChild<GuardResult>('run-guard.ts', guardSpec(s, pair, 'throughput', images, seqs));
            if (!ours.has(seqs)) ours.set(seqs, { res: [] });
            ours.get(seqs)!.res.push(r);
            log(`  ours, ${seqs} sequence(s): ${n} images in ${f0(r.wallMs)} ms`);
        }
    }
    const seqRaw = ours.get(1)!.res[0]!.calls.map((c) => c.raw);
    const out: ThroughputFigures[] = [
        {
            label: 'llama-mtmd-cli, one process per image',
            images: n,
            imagesPerS: median(cli.walls.map((w) => (1000 * n) / w)),
            imagesPerSWithLoad: median(cli.withLoad.map((w) => (1000 * n) / w)),
            wallMs: median(cli.walls),
            peakRssMiB: median(cli.peak),
            rounds: cli.walls,
        },
    ];
    for (const [seqs, { res }] of ours) {
        out.push({
            label:
                seqs === 1
                    ? 'ours, sequential (sequences 1)'
                    : `ours, ${seqs} parallel sequences (${n} concurrent assess calls)`,
            images: n,
            imagesPerS: median(res.map((r) => (1000 * n) / r.wallMs)),
            wallMs: median(res.map((r) => r.wallMs)),
            peakRssMiB: median(res.map((r) => r.peakRssMiB)),
            sameAsSequential: res[0]!.calls.filter((c, i) => c.raw === seqRaw[i]).length,
            rounds: res.map((r) => r.wallMs),
        });
    }
    return out;
}

export function throughputTable(t: ThroughputFigures[], threads: number): string {
    const seq = t[1]!;
    const n = seq.images;
    return [
        `### Throughput: ${n} distinct photo-like 384x384 images, ${threads} threads (median of ${seq.rounds.length} round(s))`,
        '',
        mdTable(
            [
                '',
                'images/s',
                'vs ours sequential',
                `wall for ${n} images (ms)`,
                'per image (ms)',
                'peak RSS (MiB)',
                'verdicts = sequential',
            ],
            t.map((x) => [
                x.label,
                f3(x.imagesPerS) +
                    (x.imagesPerSWithLoad !== undefined ? ` (${f3(x.imagesPerSWithLoad)} with loading)` : ''),
                f2(x.imagesPerS / seq.imagesPerS),
                f0(x.wallMs),
                f0(x.wallMs / n),
                f0(x.peakRssMiB),
                x.sameAsSequential !== undefined ? `${x.sameAsSequential}/${n}` : '-',
            ]),
        ),
        '',
        'llama-mtmd-cli: matched settings (as the overhead table), model loading excluded per image (its log window);',
        'ours: LlavaGuard.load({ threads, sequences }), timed from the first assess() call to the last result.',
    ].join('\n');
}
