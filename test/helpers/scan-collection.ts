// A folder of generated images for the scan tests (nested, duplicated, truncated and disguised files) and the
// tiny guard that assesses them, counting its calls.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { Test } from 'tap';
import { cachedTestModel } from '../../gguf/synthetic/tiny-models.js';
import { LlavaGuard, Policy } from '../../lib/index.js';
import type { ScanGuard, ScanOptions, ScanRecord } from '../../lib/scan/index.js';
import { patternImage } from './models.js';

// The tiny test models run fastest on one thread (also in the CLI processes the tests spawn).
process.env.LLAVAGUARD_THREADS ??= '1';

// One category keeps the prompt ~1k tokens (the full policy is ~3.6k).
export const policy = Policy.default('v1.2').remove('O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9');
export const runOptions: ScanOptions = { policy, seed: 7, maxRationaleChars: 10, maxTokens: 60 };

const encoders = [
    (s: Sharp) => s.png(),
    (s: Sharp) => s.jpeg(),
    (s: Sharp) => s.webp(),
    (s: Sharp) => s.gif(),
    (s: Sharp) => s.tiff(),
];
const exts = ['png', 'jpg', 'webp', 'gif', 'tif'];
export const UNIQUE = 14;
export const IMAGES = UNIQUE + 3 + 2 + 1; // what a folder scan finds
export const ASSESSABLE = UNIQUE + 1; // distinct decodable images

/** A small pattern image encoded as PNG, JPEG, WebP, GIF or TIFF (which: 0..4). */
export async function encoded(seed: number, which: number) {
    const img = patternImage(12 + (seed % 5), 10 + (seed % 3), seed);
    return encoders[which](
        sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }),
    ).toBuffer();
}

/**
 * 14 distinct images in nested folders, 3 copies elsewhere, 2 truncated, a text file, a text file named .jpg,
 * a PNG named .txt; in a temporary folder removed when t ends.
 */
export async function makeCollection(t: Test) {
    const root = await mkdtemp(join(tmpdir(), 'llavaguard-scan-'));
    const coll = join(root, 'collection');
    t.teardown(() => rm(root, { recursive: true, force: true }));
    const put = async (rel: string, data: Buffer | string) => {
        await mkdir(dirname(join(coll, rel)), { recursive: true });
        await writeFile(join(coll, rel), data);
    };
    const uniquePaths: string[] = [];
    for (let i = 0; i < UNIQUE; i++) {
        const rel = `${['a', 'a/b', 'c/d/e', ''][i % 4]}/img${String(i).padStart(2, '0')}.${exts[i % 5]}`.replace(
            /^\//,
            '',
        );
        uniquePaths.push(rel);
        await put(rel, await encoded(i, i % 5));
    }
    for (const [i, rel] of [
        [1, 'dups/copy1.jpg'],
        [5, 'dups/deeper/copy5.png'],
        [5, 'zz-copy5.png'],
    ] as const) {
        await mkdir(dirname(join(coll, rel)), { recursive: true });
        await copyFile(join(coll, uniquePaths[i]), join(coll, rel));
    }
    const jpeg = await encoded(99, 1);
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#36c' } })
        .png()
        .toBuffer();
    await put('broken/cut.jpg', jpeg.subarray(0, 40));
    await put('broken/cut.png', png.subarray(0, 60));
    await put('notes.txt', 'not an image\n');
    await put('c/fake.jpg', 'a text file pretending to be a JPEG\n');
    await put('c/wrong-extension.txt', await encoded(42, 0));
    return { root, coll, uniquePaths, jpeg, png };
}

/** The tiny onevision guard, loaded once on first use and closed when t ends. */
export function scanGuard(t: Test) {
    let guardPromise: Promise<LlavaGuard> | undefined;
    const realGuard = () =>
        (guardPromise ??= cachedTestModel('onevision').then((p) => LlavaGuard.load({ ...p, threads: 1 })));
    t.teardown(async () => {
        if (guardPromise) await (await guardPromise).close();
    });
    /** The real guard, counting assess calls. */
    async function countingGuard() {
        const g = await realGuard();
        const counter = {
            calls: 0,
            guard: {
                modelInfo: g.modelInfo,
                defaultPolicy: g.defaultPolicy,
                imagePipeline: g.imagePipeline,
                assess: (image, options) => {
                    counter.calls++;
                    return g.assess(image, options);
                },
            } satisfies ScanGuard,
        };
        return counter;
    }
    return { realGuard, countingGuard };
}

/** Every record a scan yields, and its summary. */
export async function drain<S>(gen: AsyncGenerator<ScanRecord, S>) {
    const records: ScanRecord[] = [];
    let r = await gen.next();
    while (!r.done) {
        records.push(r.value);
        r = await gen.next();
    }
    return { records, summary: r.value };
}

export const readJsonl = async (file: string) =>
    (await readFile(file, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ScanRecord);
