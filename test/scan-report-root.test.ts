// `llavaguard scan photos/ --out results/scan.jsonl` then `llavaguard report results/scan.jsonl --out report/`:
// the records say which folder their paths are relative to, so the report finds the images without --images.
// Records of older scans (no root) still resolve against the results file's folder.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import type { Assessment } from '../lib/guard/types.js';
import { Policy } from '../lib/policy/index.js';
import { readScanResults, writeScanReport } from '../lib/report/index.js';
import { isVerdict, listImages, scanImages, type ScanGuard, type ScanRecord } from '../lib/scan/index.js';

const policy = Policy.default('v1.2');
const O1 = policy.categoryStrings[0];

/** Rates every image Unsafe without a model. */
function unsafeGuard(modelFile: string): ScanGuard {
    return {
        modelInfo: { name: 'stand-in', path: modelFile },
        defaultPolicy: policy,
        assess: async () =>
            ({
                rating: 'Unsafe',
                category: O1,
                rationale: 'stand-in verdict',
                unsafe: true,
                timings: { totalMs: 1 },
                policyHash: policy.hash,
            }) as unknown as Assessment,
    };
}

async function photo(file: string, color: string, width: number) {
    await mkdir(join(file, '..'), { recursive: true });
    await sharp({ create: { width, height: 40, channels: 3, background: color } })
        .png()
        .toFile(file);
}

async function drain(gen: AsyncGenerator<ScanRecord, unknown>): Promise<ScanRecord[]> {
    const records: ScanRecord[] = [];
    for await (const r of gen) records.push(r);
    return records;
}

t.test('scan into another folder, then report: every thumbnail is found', async (t) => {
    const dir = t.testdir({ results: {}, 'model.gguf': 'stand-in' });
    const photos = join(dir, 'photos');
    await photo(join(photos, 'beach.png'), '#d33', 60);
    await photo(join(photos, 'trip', 'night.png'), '#33d', 70);
    await photo(join(photos, 'trip', 'copy.png'), '#d33', 60); // same content as beach.png: a duplicate
    const results = join(dir, 'results', 'scan.jsonl');

    const records = await drain(scanImages(unsafeGuard(join(dir, 'model.gguf')), photos, { output: results }));
    t.same(
        records.map((r) => [r.path, r.root]),
        [
            ['beach.png', photos],
            ['trip/copy.png', photos],
            ['trip/night.png', photos],
        ],
        'each record names the folder its path is relative to (the duplicate too)',
    );
    t.ok(records.every(isVerdict));
    t.equal(records[1].duplicateOf, 'beach.png');

    const report = await writeScanReport(results, { out: join(dir, 'report') });
    t.same(report.thumbnails, { made: 2, reused: 0, failed: 0 }, 'no thumbnail is missing');
    t.equal(report.gallery, 3);
});

t.test('hand-made entries: the root is derived from file and path; absolute paths carry none', async (t) => {
    const dir = t.testdir({ 'model.gguf': 'stand-in' });
    const photos = join(dir, 'photos');
    await photo(join(photos, 'a', 'one.png'), '#3a3', 50);
    await photo(join(dir, 'elsewhere.png'), '#a3d', 50);
    const entries = [
        { path: 'a/one.png', file: join(photos, 'a', 'one.png') },
        { path: join(dir, 'elsewhere.png'), file: join(dir, 'elsewhere.png') },
    ];
    const records = await drain(scanImages(unsafeGuard(join(dir, 'model.gguf')), entries));
    t.equal(records[0].root, photos);
    t.notOk('root' in records[1], 'an absolute path needs no root');
    t.same(
        (await listImages(photos)).map((e) => e.root),
        [photos],
    );
});

t.test('old results (no root) resolve against their own folder; --images still wins', async (t) => {
    const dir = t.testdir({ images: {}, 'model.gguf': 'stand-in' });
    await photo(join(dir, 'old.png'), '#da3', 40);
    await photo(join(dir, 'images', 'moved.png'), '#3dd', 40);
    const record = (path: string, extra: object = {}) => ({
        path,
        bytes: 10,
        sha256: (path.length + 1).toString(16).padStart(64, '0'),
        key: `k-${path}`,
        rating: 'Unsafe',
        category: O1,
        rationale: 'r',
        unsafe: true,
        timings: { totalMs: 1 },
        model: { name: 'm', file: 'm.gguf', bytes: 1 },
        policyHash: policy.hash,
        ...extra,
    });
    const results = join(dir, 'results.jsonl');
    await writeFile(results, `${JSON.stringify(record('old.png'))}\n`);
    const old = await writeScanReport(results, { out: join(dir, 'report-old') });
    t.same(old.thumbnails, { made: 1, reused: 0, failed: 0 }, 'a record without root: the results folder');

    await writeFile(results, `${JSON.stringify(record('moved.png', { root: join(dir, 'gone') }))}\n`);
    t.equal((await readScanResults(results)).records[0].root, join(dir, 'gone'));
    const moved = await writeScanReport(results, { out: join(dir, 'report-moved'), images: join(dir, 'images') });
    t.same(moved.thumbnails, { made: 1, reused: 0, failed: 0 }, '--images overrides the recorded root');
});
