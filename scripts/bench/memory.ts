// Peak memory (VmHWM) of ONE faithful assessment (the OneVision anyres pipeline, tiles through the encoder), each
// route in a fresh child process:
//   js      the route before the embeddings stayed native: the tiles' rows copied into Float32Arrays, packed in JS,
//           the packed array copied back by the prefill (the library keeps it for an encoder without handles: the
//           child hides the scheduler's encodeImageHandles from the pipeline to take it);
//   native  the encoded tiles are native handles, packed natively, the prefill reads the packed handle in place.
// Also prints what the removed copies weigh at the 7B width (3584: LlavaGuard v1.2-7B, Qwen2-7B).
//
//   npm run bench:memory -- [--model F --mmproj F] [--width 1152 --height 768] [--max-tokens 8] [--threads N] [--json]
// Default model: the shape-faithful 0.5B pair that scripts/bench/make-shaped.ts writes.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import sharp from 'sharp';

import { LlavaGuard } from '../../lib/guard/LlavaGuard.js';
import { ONEVISION_CONFIG, planOneVision, type OneVisionPlan } from '../../lib/preprocess/index.js';
import { Scheduler } from '../../lib/runtime/Scheduler.js';
import { copiedOut } from '../../lib/runtime/native-requests.js';
import { childResult, f0, f1, mdTable, mustRunChild, selfStatusMiB } from './common.js';
import { photoLikePixels } from './image.js';

const WIDTH_7B = 3584;

interface ChildSpec {
    child: true;
    route: 'js' | 'native';
    model: string;
    mmproj: string;
    width: number;
    height: number;
    maxTokens: number;
    threads: number;
}

interface ChildOutcome {
    route: 'js' | 'native';
    baseMiB: number;
    loadedPeakMiB: number;
    peakMiB: number;
    nEmbd: number;
    imageTokens: number;
    tiles: number;
    generated: number;
    rating: string;
    assessMs: number;
    /** The sample of highest RSS during the assessment, and what JS's ArrayBuffers (live or not yet collected) held then. */
    atPeak: { rssMiB: number; arrayBuffersMiB: number; atMs: number };
    /** The most JS's ArrayBuffers held at any sample during the assessment. */
    maxArrayBuffersMiB: number;
}

/**
 * Samples RSS and JS's ArrayBuffer bytes every few ms while native code computes (the event loop is free then),
 * to say which rows were alive when the process peaked. A synchronous JS step (the JS route's packing) is seen
 * only at its edges; VmHWM still catches its peak.
 */
function sampleMemory(everyMs = 10) {
    const t0 = performance.now();
    const atPeak = { rssMiB: 0, arrayBuffersMiB: 0, atMs: 0 };
    let maxArrayBuffersMiB = 0;
    const sample = () => {
        const rssMiB = selfStatusMiB('VmRSS');
        const arrayBuffersMiB = process.memoryUsage().arrayBuffers / 2 ** 20;
        maxArrayBuffersMiB = Math.max(maxArrayBuffersMiB, arrayBuffersMiB);
        if (rssMiB > atPeak.rssMiB) Object.assign(atPeak, { rssMiB, arrayBuffersMiB, atMs: performance.now() - t0 });
    };
    const timer = setInterval(sample, everyMs);
    return {
        stop() {
            clearInterval(timer);
            sample();
            return { atPeak, maxArrayBuffersMiB };
        },
    };
}

async function runChildRoute(spec: ChildSpec): Promise<ChildOutcome> {
    const baseMiB = selfStatusMiB('VmHWM');
    if (spec.route === 'js') {
        // what an encoder without handles gets: the Float32Array route. encodeImages itself goes through
        // encodeImageHandles (and copies the rows out), so it keeps the original while the pipeline sees none.
        const proto = Scheduler.prototype as {
            encodeImageHandles?: Scheduler['encodeImageHandles'];
            encodeImages: Scheduler['encodeImages'];
        };
        const handles = proto.encodeImageHandles!;
        proto.encodeImages = async function (this: Scheduler, images, options = {}) {
            return copiedOut(await handles.call(this, images, options));
        };
        proto.encodeImageHandles = undefined;
    }
    const guard = await LlavaGuard.load({
        model: spec.model,
        mmproj: spec.mmproj,
        threads: spec.threads,
        imagePipeline: 'faithful',
    });
    if (guard.imagePipeline.name !== 'onevision-anyres') throw new Error(`pipeline ${guard.imagePipeline.name}`);
    const png = await sharp(Buffer.from(photoLikePixels(spec.width, spec.height)), {
        raw: { width: spec.width, height: spec.height, channels: 3 },
    })
        .png()
        .toBuffer();
    const loadedPeakMiB = selfStatusMiB('VmHWM');
    const sampler = sampleMemory();
    const t0 = performance.now();
    // A few tokens suffice (the peak is the prefill's); the verdict they leave unfinished does not matter here.
    const a = await guard.assess(png, { maxTokens: spec.maxTokens, temperature: 0 }).catch((error: Error) => {
        if (error.name !== 'VerdictParseError') throw error;
        return { rating: 'unfinished', tokens: { image: NaN, generated: spec.maxTokens } };
    });
    const assessMs = performance.now() - t0;
    const sampled = sampler.stop();
    const plan: OneVisionPlan = planOneVision(
        { width: spec.width, height: spec.height },
        guard.imagePipeline.choice.onevision!,
    );
    const out: ChildOutcome = {
        route: spec.route,
        baseMiB,
        loadedPeakMiB,
        peakMiB: selfStatusMiB('VmHWM'),
        nEmbd: guard.vision.info.nEmbd,
        imageTokens: Number.isNaN(a.tokens.image) ? plan.tokens.total : a.tokens.image,
        tiles: plan.tiles.length + 1,
        generated: a.tokens.generated,
        rating: a.rating,
        assessMs,
        ...sampled,
    };
    await guard.close();
    return out;
}

/**
 * Bytes of float rows the JS route allocates and the native route does not, for one picture: the tiles' rows
 * copied into JS, the stitched map, the downsampled map, and the packed rows once more (the JS route holds them
 * twice, its array and the prefill's copy; the native route once, packed straight from the tiles).
 */
function copiedBytes(plan: OneVisionPlan, nEmbd: number) {
    const perTile = plan.featuresPerSide ** 2;
    const row = nEmbd * 4;
    const tiles = (plan.tiles.length + 1) * perTile * row; // encoder output into Float32Arrays
    const unpadded = plan.unpadded.h * plan.unpadded.w * row; // the stitched map
    const downsampled = plan.downsampled ? plan.downsampled.h * plan.downsampled.w * row : 0;
    const packed = plan.tokens.total * row; // the packed array, and its copy into the prefill
    return { tiles, unpadded, downsampled, packed, total: tiles + unpadded + downsampled + packed };
}

const mib = (bytes: number) => bytes / 2 ** 20;

async function main(): Promise<void> {
    const arg = process.argv[2];
    if (arg?.startsWith('{')) {
        childResult(await runChildRoute(JSON.parse(arg) as ChildSpec));
        return;
    }
    const { values } = parseArgs({
        options: {
            model: { type: 'string' },
            mmproj: { type: 'string' },
            width: { type: 'string', default: '1152' },
            height: { type: 'string', default: '768' },
            'max-tokens': { type: 'string', default: '8' },
            threads: { type: 'string', default: '2' },
            json: { type: 'boolean', default: false },
        },
    });
    const dir = '/tmp/llavaguard-bench-models/llavaguard-v1.2-0.5b-q8_0';
    const model = values.model ?? path.join(dir, 'model.gguf');
    const mmproj = values.mmproj ?? path.join(dir, 'mmproj.gguf');
    if (!existsSync(model) || !existsSync(mmproj)) {
        throw new Error(`${model} / ${mmproj} missing: write them with scripts/bench/make-shaped.ts`);
    }
    const base = {
        child: true as const,
        model,
        mmproj,
        width: Number(values.width),
        height: Number(values.height),
        maxTokens: Number(values['max-tokens']),
        threads: Number(values.threads),
    };
    const script = path.basename(fileURLToPath(import.meta.url));
    const before = await mustRunChild<ChildOutcome>(script, { ...base, route: 'js' });
    const after = await mustRunChild<ChildOutcome>(script, { ...base, route: 'native' });
    const plan = planOneVision({ width: base.width, height: base.height }, ONEVISION_CONFIG);
    const largest = planOneVision({ width: 2304, height: 2304 }, ONEVISION_CONFIG);
    const here = copiedBytes(plan, after.nEmbd);
    const at7b = copiedBytes(plan, WIDTH_7B);
    const largest7b = copiedBytes(largest, WIDTH_7B);
    const rows: string[][] = [
        ['peak RSS, whole process (MiB)', f0(before.peakMiB), f0(after.peakMiB), f1(before.peakMiB - after.peakMiB)],
        [
            'peak RSS above the loaded guard (MiB)',
            f0(before.peakMiB - before.loadedPeakMiB),
            f0(after.peakMiB - after.loadedPeakMiB),
            f1(before.peakMiB - before.loadedPeakMiB - (after.peakMiB - after.loadedPeakMiB)),
        ],
        [
            'image tokens / encoder inputs',
            `${before.imageTokens} / ${before.tiles}`,
            `${after.imageTokens} / ${after.tiles}`,
            '',
        ],
        [
            'at the highest sampled RSS: RSS / JS ArrayBuffers (MiB)',
            `${f0(before.atPeak.rssMiB)} / ${f1(before.atPeak.arrayBuffersMiB)}`,
            `${f0(after.atPeak.rssMiB)} / ${f1(after.atPeak.arrayBuffersMiB)}`,
            f1(before.atPeak.arrayBuffersMiB - after.atPeak.arrayBuffersMiB),
        ],
        [
            'JS ArrayBuffers, most at any sample (MiB)',
            f1(before.maxArrayBuffersMiB),
            f1(after.maxArrayBuffersMiB),
            f1(before.maxArrayBuffersMiB - after.maxArrayBuffersMiB),
        ],
        ['assessment wall (ms, not a claim: one run each)', f0(before.assessMs), f0(after.assessMs), ''],
    ];
    const table = mdTable(['one assessment', 'before (rows through JS)', 'after (native handles)', 'difference'], rows);
    const copies = mdTable(
        [
            'float rows only the JS route allocates (MiB)',
            `this picture, width ${after.nEmbd}`,
            `this picture, width ${WIDTH_7B}`,
            `2304x2304 (${largest.tiles.length + 1} inputs), width ${WIDTH_7B}`,
        ],
        (['tiles', 'unpadded', 'downsampled', 'packed', 'total'] as const).map((k) => [
            k === 'packed' ? 'packed (its second copy)' : k,
            f1(mib(here[k])),
            f1(mib(at7b[k])),
            f1(mib(largest7b[k])),
        ]),
    );
    if (values.json) {
        process.stdout.write(
            `${JSON.stringify({ date: new Date().toISOString(), spec: base, before, after, copiedBytes: { here, at7b, largest7b } }, null, 2)}\n`,
        );
        return;
    }
    process.stdout.write(
        `${base.width}x${base.height} photo-like PNG, ${base.maxTokens} tokens at most, ${base.threads} threads, ${path.basename(path.dirname(model))}\n\n${table}\n\n${copies}\n`,
    );
}

await main();
