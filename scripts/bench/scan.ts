// Throughput of the scan engine against the naive way: a loop of single `await guard.assess(image)` calls,
// over the same collection (images of varied sizes and formats), same model, policy, sampling and threads.
// The scan runs with the guard's parallel sequence slots (1, 2, 4 by default); the loop with one slot
// (one call at a time cannot use more). Each way runs in a fresh process (scripts/bench/scan-run.ts), so the
// peak RSS reported is that way's own. Prints a markdown table.
//
//   TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import scripts/bench/scan.ts [options]
//   npm run bench:scan -- [options]
//
// Options:
//   --pair DIR            DIR/model.gguf + DIR/mmproj.gguf (e.g. the shape-faithful
//                         /tmp/llavaguard-bench-models/llavaguard-v1.2-0.5b-q8_0; minutes an image on a small CPU)
//                         instead of the tiny random-weight demo model (the one `llavaguard demo` uses)
//   --images N            images in the collection (default 64)
//   --sequences LIST      sequence slots of the scan runs, comma-separated (default 1,2,4)
//   --threads N           CPU threads (default 1: the tiny model is overhead-bound, and on a busy machine
//                         fewer threads are faster; give the machine's cores for a real model on a quiet one)
//   --policy FILE         policy JSON (default: the policy the model was trained with, ~3.6k prompt tokens)
//   --short-policy        keep only the policy's first category (~1k prompt tokens): a quicker run
//   --rationale-chars N   grammar bound on the rationale, so a random-weight model ends its verdict (default 160)
//   --max-tokens N        answer length limit (default 500, the reference's)
//   --seed N              sampling seed, the same for every image (default 42)
//   --json FILE           also write the results as JSON

import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import sharp from 'sharp';

import { cachedTestModel } from '../../gguf/synthetic/tiny-models.js';
import { mustRunChild } from './common.js';
import { photoLikePixels } from './image.js';
import type { ScanRunResult, ScanRunSpec } from './scan-run.js';

const { values: opt } = parseArgs({
    options: {
        pair: { type: 'string' },
        images: { type: 'string', default: '64' },
        sequences: { type: 'string', default: '1,2,4' },
        threads: { type: 'string', default: '1' },
        policy: { type: 'string' },
        'short-policy': { type: 'boolean', default: false },
        'rationale-chars': { type: 'string', default: '160' },
        'max-tokens': { type: 'string', default: '500' },
        seed: { type: 'string', default: '42' },
        json: { type: 'string' },
    },
});

const IMAGES = Number(opt.images);
const SEQUENCES = opt.sequences!.split(',').map(Number);
if (!(IMAGES >= 1) || SEQUENCES.some((s) => !(Number.isInteger(s) && s >= 1)))
    throw new Error('--images and --sequences must be positive integers');

const log = (msg: string) => process.stderr.write(`[bench:scan] ${msg}\n`);
const load1 = () => os.loadavg()[0]!;
const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const mib = (bytes: number) => bytes / 1024 / 1024;

/**
 * A collection of distinct, photo-like pictures of varied sizes (96 px to 1600 px sides, portrait, landscape,
 * square) in JPEG, PNG and WebP: the scan reads, hashes and decodes them ahead, the loop one at a time.
 */
async function makeCollection(dir: string, count: number): Promise<number> {
    let bytes = 0;
    const sides = [96, 224, 384, 512, 640, 800, 1024, 1280, 1600];
    for (let i = 0; i < count; i++) {
        const width = sides[i % sides.length]!;
        const height = sides[(i * 5 + 3) % sides.length]!;
        const img = sharp(Buffer.from(photoLikePixels(width, height, i + 1)), { raw: { width, height, channels: 3 } });
        const [ext, encoded] =
            i % 3 === 0 ? ['jpg', img.jpeg({ quality: 88 })] : i % 3 === 1 ? ['png', img.png()] : ['webp', img.webp()];
        const file = path.join(dir, `img${String(i).padStart(3, '0')}.${ext}`);
        await encoded.toFile(file);
        bytes += statSync(file).size;
    }
    return bytes;
}

interface Row {
    label: string;
    sequences: number;
    result: ScanRunResult;
    load: number;
}

function table(rows: Row[]): string {
    const loop = rows[0]!.result;
    const rate = (r: ScanRunResult) => r.images / (r.wallMs / 1000);
    const same = (r: ScanRunResult) => Object.entries(loop.ratings).filter(([p, v]) => r.ratings[p] === v).length;
    const lines = [
        '| way | sequence slots | images | wall (s) | **images/s** | vs the loop | CPU time (s) | verdicts as the loop | peak RSS (MiB) | RSS after loading (MiB) | load avg |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const { label, sequences, result: r, load } of rows) {
        lines.push(
            `| ${label} | ${sequences} | ${r.images} | ${f1(r.wallMs / 1000)} | **${f2(rate(r))}** | ${f2(rate(r) / rate(loop))}x | ${f1(r.cpuMs / 1000)} | ` +
                `${same(r)}/${Object.keys(loop.ratings).length} | ${r.peakRssMiB.toFixed(0)} | ${r.loadedRssMiB.toFixed(0)} | ${f1(load)} |`,
        );
    }
    return lines.join('\n');
}

async function main(): Promise<void> {
    const pair = opt.pair
        ? { model: path.join(opt.pair, 'model.gguf'), mmproj: path.join(opt.pair, 'mmproj.gguf') }
        : await cachedTestModel('onevision');
    const work = mkdtempSync(path.join(os.tmpdir(), 'llavaguard-bench-scan-'));
    try {
        const folder = path.join(work, 'images');
        mkdirSync(folder);
        const bytes = await makeCollection(folder, IMAGES);
        log(`model ${pair.model} (${f1(mib(statSync(pair.model).size))} MiB), mmproj ${pair.mmproj}`);
        log(
            `${IMAGES} images (${f1(mib(bytes))} MiB) in ${folder}; threads ${opt.threads}; policy ${opt.policy ?? 'the trained default'}${opt['short-policy'] ? ', first category only' : ''}`,
        );
        const base = {
            model: pair.model,
            mmproj: pair.mmproj,
            folder,
            threads: Number(opt.threads),
            policyFile: opt.policy,
            shortPolicy: opt['short-policy'],
            seed: Number(opt.seed),
            maxRationaleChars: Number(opt['rationale-chars']),
            maxTokens: Number(opt['max-tokens']),
        };
        const ways: Array<Omit<Row, 'result' | 'load'> & { mode: ScanRunSpec['mode'] }> = [
            { label: 'loop of `await guard.assess(image)`', mode: 'assess-loop', sequences: 1 },
            ...SEQUENCES.map((sequences) => ({
                label: '`scanImages` (library engine)',
                mode: 'scan' as const,
                sequences,
            })),
        ];
        const rows: Row[] = [];
        for (const [i, way] of ways.entries()) {
            const before = load1();
            log(`${way.mode}, ${way.sequences} slot(s) ... (load average ${f1(before)})`);
            const result = await mustRunChild<ScanRunResult>('scan-run.ts', {
                ...base,
                mode: way.mode,
                sequences: way.sequences,
                output: path.join(work, `scan-${i}.jsonl`),
            });
            const load = (before + load1()) / 2;
            log(
                `  ${f1(result.wallMs / 1000)} s, ${f2(result.images / (result.wallMs / 1000))} images/s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB`,
            );
            rows.push({ label: way.label, sequences: way.sequences, result, load });
        }
        const loop = rows[0]!.result;
        process.stdout.write(
            `${table(rows)}\n\n` +
                `${IMAGES} images, ${f1(mib(bytes))} MiB; model ${path.basename(path.dirname(pair.model))}/${path.basename(pair.model)}; ` +
                `threads ${opt.threads}; policy ${opt.policy ? path.basename(opt.policy) : 'the trained default'}${opt['short-policy'] ? ' (first category only)' : ''}; ` +
                `seed ${opt.seed}; rationale <= ${opt['rationale-chars']} chars; ` +
                `RSS before loading (node + TS loader): ${loop.baseRssMiB.toFixed(0)} MiB; load average at the start and end of each run, averaged\n`,
        );
        if (opt.json) {
            writeFileSync(
                opt.json,
                `${JSON.stringify({ date: new Date().toISOString(), images: IMAGES, bytes, threads: Number(opt.threads), rows }, null, 2)}\n`,
            );
        }
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}

await main();
