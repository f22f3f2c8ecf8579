import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import sharp, { type Sharp } from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { LlavaGuard, Policy } from '../lib/index.js';
import {
    exportCsv,
    isVerdict,
    listImages,
    pathsFromCsv,
    recordsToCsv,
    scanImages,
    sniffImageFormat,
    type ScanGuard,
    type ScanOptions,
    type ScanRecord,
} from '../lib/scan/index.js';
import { patternImage } from './helpers/models.js';

// The tiny test models run fastest on one thread (also in the CLI processes spawned here).
process.env.LLAVAGUARD_THREADS ??= '1';

// One category keeps the prompt ~1k tokens (the full policy is ~3.6k): ~0.4 s an image on the tiny model.
const policy = Policy.default('v1.2').remove('O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9');
const runOptions: ScanOptions = { policy, seed: 7, maxRationaleChars: 10, maxTokens: 60 };

const root = await mkdtemp(join(tmpdir(), 'llavaguard-scan-'));
const coll = join(root, 'collection');
t.teardown(() => rm(root, { recursive: true, force: true }));

const encoders = [
    (s: Sharp) => s.png(),
    (s: Sharp) => s.jpeg(),
    (s: Sharp) => s.webp(),
    (s: Sharp) => s.gif(),
    (s: Sharp) => s.tiff(),
];
const exts = ['png', 'jpg', 'webp', 'gif', 'tif'];
const UNIQUE = 14;
async function put(rel: string, data: Buffer | string) {
    await mkdir(dirname(join(coll, rel)), { recursive: true });
    await writeFile(join(coll, rel), data);
}
async function encoded(seed: number, which: number) {
    const img = patternImage(12 + (seed % 5), 10 + (seed % 3), seed);
    return encoders[which](
        sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }),
    ).toBuffer();
}
// 14 distinct images in nested folders, 3 copies elsewhere, 2 truncated, a text file, a text file named .jpg, a PNG named .txt
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
const IMAGES = UNIQUE + 3 + 2 + 1; // what a folder scan finds
const ASSESSABLE = UNIQUE + 1; // distinct decodable images

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
async function drain<S>(gen: AsyncGenerator<ScanRecord, S>) {
    const records: ScanRecord[] = [];
    let r = await gen.next();
    while (!r.done) {
        records.push(r.value);
        r = await gen.next();
    }
    return { records, summary: r.value };
}
const readJsonl = async (file: string) =>
    (await readFile(file, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ScanRecord);

t.test('images are recognised by their first bytes', async (t) => {
    t.equal(sniffImageFormat(jpeg), 'jpeg');
    t.equal(sniffImageFormat(png), 'png');
    t.equal(sniffImageFormat(await encoded(1, 2)), 'webp');
    t.equal(sniffImageFormat(await encoded(1, 3)), 'gif');
    t.equal(sniffImageFormat(await encoded(1, 4)), 'tiff');
    t.equal(sniffImageFormat(Buffer.from('\0\0\0\x1cftypavif\0\0\0\0', 'latin1')), 'heif');
    t.equal(sniffImageFormat(Buffer.from('BM is a band, and this is text')), null);
    t.equal(sniffImageFormat(Buffer.from('hello')), null);
});

t.test('a folder scan finds images by content, recursively, sorted; non-images are skipped', async (t) => {
    const entries = await listImages(coll);
    const paths = entries.map((e) => e.path);
    t.equal(entries.length, IMAGES);
    t.same(paths, [...paths].sort(), 'sorted');
    t.ok(paths.includes('c/wrong-extension.txt'), 'a PNG named .txt is found');
    t.notOk(paths.includes('notes.txt'), 'a text file is skipped');
    t.notOk(paths.includes('c/fake.jpg'), 'a text file named .jpg is skipped');
    t.ok(
        paths.includes('broken/cut.jpg') && paths.includes('broken/cut.png'),
        'truncated files with image magic are kept (they become errors)',
    );
    t.ok(paths.includes('c/d/e/img02.webp'), 'nested folders, paths relative to the folder');
    t.equal(entries[0].file, join(coll, entries[0].path));
});

t.test(
    'shards partition the collection exactly (2 and 3 shards), deterministically; limit keeps the first N',
    async (t) => {
        const all = (await listImages(coll)).map((e) => e.path);
        for (const count of [2, 3]) {
            const shards = await Promise.all(
                Array.from({ length: count }, (_, index) => listImages({ folder: coll }, { shard: { index, count } })),
            );
            const union = shards.flatMap((s) => s.map((e) => e.path));
            t.equal(union.length, all.length, `${count} shards: no overlap`);
            t.same([...union].sort(), all, `${count} shards: union = all`);
            t.ok(
                shards.every((s) => s.length > 0),
                `${count} shards: none empty`,
            );
            t.same(
                (await listImages(coll, { shard: { index: 1, count } })).map((e) => e.path),
                shards[1].map((e) => e.path),
                'the same shard twice',
            );
        }
        t.same(
            (await listImages(coll, { limit: 5 })).map((e) => e.path),
            all.slice(0, 5),
        );
        await t.rejects(listImages(coll, { shard: { index: 3, count: 3 } }), RangeError);
    },
);

t.test('manifests (JSONL, CSV) and stdin: relative paths resolve against the manifest folder', async (t) => {
    const jsonl = join(coll, 'list.jsonl');
    await writeFile(
        jsonl,
        `{"path":"a/img00.png","label":1}\n\n{"path":"${join(coll, 'a/b/img01.jpg')}"}\n{"path":"missing.png"}\n`,
    );
    const csv = join(coll, 'c', 'list.csv');
    await writeFile(csv, '\ufeffid,path,note\r\n1,d/e/img02.webp,"a, quoted ""note"""\r\n2,wrong-extension.txt,\r\n');
    const fromJsonl = await listImages(jsonl);
    t.same(
        fromJsonl.map((e) => e.path),
        [join(coll, 'a/b/img01.jpg'), 'a/img00.png', 'missing.png'],
    );
    t.same(
        fromJsonl.map((e) => e.file),
        [join(coll, 'a/b/img01.jpg'), join(coll, 'a/img00.png'), join(coll, 'missing.png')],
    );
    const fromCsv = await listImages(csv);
    t.same(
        fromCsv.map((e) => e.file),
        [join(coll, 'c/d/e/img02.webp'), join(coll, 'c/wrong-extension.txt')],
    );
    const fromStdin = await listImages('-', {
        stdin: Readable.from([`${join(coll, 'a/img00.png')}\n\n${join(coll, 'notes.txt')}\n`]),
    });
    t.equal(fromStdin.length, 2);
    await t.rejects(listImages(join(coll, 'notes.txt'), {}), { name: 'ManifestError' });
    // a listed file that is missing or not an image becomes an error record
    const { guard } = await countingGuard();
    const { records } = await drain(scanImages(guard, jsonl, runOptions));
    t.same(
        records.map((r) => [r.path, isVerdict(r)]),
        [
            [join(coll, 'a/b/img01.jpg'), true],
            ['a/img00.png', true],
            ['missing.png', false],
        ],
    );
    t.match(records[2], { error: /no such file|not found|does not exist/i });
});

const fullOut = join(root, 'full.jsonl');
let full: ScanRecord[] = [];

t.test('one record per image: verdicts, errors for corrupt files, duplicates assessed once', async (t) => {
    const counter = await countingGuard();
    const { records, summary } = await drain(scanImages(counter.guard, coll, { ...runOptions, output: fullOut }));
    full = records;
    t.equal(records.length, IMAGES, 'one record per image');
    t.same(
        records.map((r) => r.path),
        [...records.map((r) => r.path)].sort(),
        'in sorted order',
    );
    t.same(await readJsonl(fullOut), records, 'the file holds exactly the yielded records');
    t.equal(counter.calls, ASSESSABLE, 'each distinct image assessed once');
    const errors = records.filter((r) => !isVerdict(r));
    t.same(
        errors.map((r) => r.path),
        ['broken/cut.jpg', 'broken/cut.png'],
    );
    for (const e of errors) t.match(e, { bytes: Number, sha256: /^[0-9a-f]{64}$/, error: String, code: String });
    const dups = records.filter((r) => r.duplicateOf);
    t.same(
        dups.map((r) => [r.path, r.duplicateOf]),
        [
            ['dups/copy1.jpg', uniquePaths[1]],
            ['dups/deeper/copy5.png', uniquePaths[5]],
            ['zz-copy5.png', uniquePaths[5]],
        ],
    );
    const byPath = new Map(records.map((r) => [r.path, r]));
    for (const d of dups) {
        const { path: _p, duplicateOf: _d, ...rest } = d;
        const { path: _q, ...orig } = byPath.get(d.duplicateOf!)!;
        t.same(rest, orig, `${d.path} carries ${d.duplicateOf}'s verdict`);
    }
    const v = records.find(isVerdict)!;
    t.match(v, {
        bytes: Number,
        sha256: /^[0-9a-f]{64}$/,
        rating: /^(Safe|Unsafe)$/,
        policyHash: policy.hash,
        model: { file: 'model.gguf', bytes: Number },
        timings: { totalMs: Number },
    });
    t.match(summary, {
        total: IMAGES,
        done: IMAGES,
        assessed: ASSESSABLE,
        errors: 2,
        duplicates: 3,
        skipped: 0,
        aborted: false,
    });
    t.equal(summary.safe + summary.unsafe, IMAGES - 2);
    const tableTotal = Object.values(summary.categories).reduce((n, c) => n + c.Safe + c.Unsafe, 0);
    t.equal(tableTotal, IMAGES - 2, 'the category table counts every verdict');
});

t.test('resume after a crash: whole records kept, the torn last line dropped, only the rest assessed', async (t) => {
    t.ok(full.length === IMAGES, 'needs the full run');
    const out = join(root, 'crashed.jsonl');
    const lines = (await readFile(fullOut, 'utf8')).split('\n');
    const KEEP = 8;
    const torn = lines[KEEP].slice(0, 37);
    await writeFile(out, `${lines.slice(0, KEEP).join('\n')}\n${torn}`);
    const counter = await countingGuard();
    const { records, summary } = await drain(scanImages(counter.guard, coll, { ...runOptions, output: out }));
    const expectedAssess = full.slice(KEEP).filter((r) => isVerdict(r) && !r.duplicateOf).length;
    t.equal(counter.calls, expectedAssess, `only the ${expectedAssess} images not yet recorded are assessed`);
    t.equal(records.length, IMAGES - KEEP);
    t.match(summary, { skipped: KEEP, droppedBytes: torn.length, done: IMAGES });
    const tableTotal = Object.values(summary.categories).reduce((n, c) => n + c.Safe + c.Unsafe, 0);
    t.equal(tableTotal, IMAGES - 2, 'the category table includes the resumed verdicts');
    const final = await readJsonl(out);
    const paths = final.map((r) => r.path);
    t.equal(new Set(paths).size, paths.length, 'no path recorded twice');
    t.same(
        paths,
        full.map((r) => r.path),
        'the same images as a full run',
    );
    t.same(
        final.map((r) => ('key' in r ? r.key : null)),
        full.map((r) => ('key' in r ? r.key : null)),
    );
    // a second resume has nothing left to do
    const again = await drain(scanImages(counter.guard, coll, { ...runOptions, output: out }));
    t.equal(again.records.length, 0);
    t.equal(again.summary.skipped, IMAGES);
});

t.test('another policy is another key: nothing is skipped', async (t) => {
    const out = join(root, 'other-policy.jsonl');
    await writeFile(out, await readFile(fullOut));
    const counter = await countingGuard();
    const { records } = await drain(
        scanImages(counter.guard, coll, { ...runOptions, policy: policy.allow('O1'), output: out, limit: 2 }),
    );
    t.equal(records.length, 2);
    t.equal(counter.calls, 2);
});

t.test('an abort stops cleanly: the records so far are kept and a rerun completes the set', async (t) => {
    const out = join(root, 'aborted.jsonl');
    const controller = new AbortController();
    const counter = await countingGuard();
    const { records, summary } = await drain(
        scanImages(counter.guard, coll, {
            ...runOptions,
            output: out,
            limit: 6,
            signal: controller.signal,
            onProgress: (s) => {
                if (s.done === 3) controller.abort();
            },
        }),
    );
    t.equal(summary.aborted, true);
    t.ok(records.length >= 3 && records.length <= 4, `${records.length} records before the abort took effect`);
    t.same(await readJsonl(out), records, 'every yielded record is in the file, nothing torn');
    const rest = await drain(scanImages(counter.guard, coll, { ...runOptions, output: out, limit: 6 }));
    t.equal(rest.summary.skipped, records.length);
    t.same(
        (await readJsonl(out)).map((r) => r.path),
        full.slice(0, 6).map((r) => r.path),
    );
});

t.test('the read-ahead decode gives the same verdict as assessing the file itself', async (t) => {
    const g = await realGuard();
    const rel = 'c/d/e/img02.webp';
    const direct = await g.assess(join(coll, rel), runOptions);
    const { records } = await drain(scanImages(g, [{ path: rel, file: join(coll, rel) }], runOptions));
    t.match(records[0], { rating: direct.rating, category: direct.category, rationale: direct.rationale });
});

t.test(
    'the CSV export: one row per path (its last record), quoted, model text kept from running as a formula',
    async (t) => {
        t.ok(full.length === IMAGES, 'needs the full run');
        const v = full.find(isVerdict)!;
        const csv = recordsToCsv([
            { ...v, path: 'x, "y".png', rationale: '=HYPERLINK("evil")' },
            { path: 'e.png', error: 'cut\nshort', code: 'CORRUPT' },
        ]);
        t.same(pathsFromCsv(csv), ['x, "y".png', 'e.png']);
        t.match(csv, `"'=HYPERLINK(""evil"")"`);
        const jsonl = join(root, 'twice.jsonl');
        await writeFile(
            jsonl,
            [...full, { ...v, rating: 'Unsafe' }].map((r) => JSON.stringify(r)).join('\n') + '\n{"path":"torn',
        );
        const file = join(root, 'twice.csv');
        t.equal(await exportCsv(jsonl, file), IMAGES);
        const text = await readFile(file, 'utf8');
        t.same(pathsFromCsv(text), full.map((r) => r.path).sort());
        t.match(
            text.split('\r\n').find((l) => l.startsWith(`${v.path},`)),
            /^[^,]+,Unsafe,/,
            'the last record of a path wins',
        );
    },
);

// The CLI in a child process, as main.ts runs it (commander + registerScan): from dist/ when it is
// newer than the sources (`npx tsc -p tsconfig.json`; starts in ~1 s), else through tap's TypeScript loader (~8 s).
const here = import.meta.dirname;
const scanSources = [
    join(here, '..', 'lib', 'cli', 'commands', 'scan.ts'),
    ...readdirSync(join(here, '..', 'lib', 'scan')).map((f) => join(here, '..', 'lib', 'scan', f)),
];
const compiled = (src: string) => src.replace(`${join(here, '..')}`, join(here, '..', 'dist')).replace(/\.ts$/, '.js');
const distFresh = scanSources.every(
    (src) => existsSync(compiled(src)) && statSync(compiled(src)).mtimeMs >= statSync(src).mtimeMs,
);
const tsLoader = distFresh ? [] : process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
const scanModule = distFresh || !tsLoader.length ? compiled(scanSources[0]) : scanSources[0];
function startCli(args: string[]) {
    const entry = join(root, 'cli.mjs');
    const child = spawn(process.execPath, [...tsLoader, entry, 'scan', ...args], {
        env: { ...process.env, SCAN_MODULE: scanModule },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
        (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
    return { child, exited };
}
async function linesIn(file: string) {
    try {
        return (await readFile(file, 'utf8')).split('\n').length - 1;
    } catch {
        return 0;
    }
}
async function waitForLines(file: string, n: number, child: ChildProcess) {
    const deadline = Date.now() + 60_000;
    while ((await linesIn(file)) < n) {
        if (child.exitCode !== null || Date.now() > deadline)
            throw new Error(`the scan ended or stalled before ${n} records`);
        await new Promise((r) => setTimeout(r, 25));
    }
}

t.test(
    'the CLI survives kill -9 and Ctrl-C: a rerun resumes and ends with each image recorded once',
    { skip: existsSync(scanModule) ? false : 'no compiled CLI' },
    async (t) => {
        t.ok(full.length === IMAGES, 'needs the full run');
        const LIMIT = 6;
        t.comment(`CLI from ${scanModule}`);
        await writeFile(
            join(root, 'cli.mjs'),
            [
                "import { createRequire } from 'node:module';",
                "const { Command } = createRequire(process.env.SCAN_MODULE)('commander');",
                'const { registerScan } = await import(process.env.SCAN_MODULE);',
                "const program = new Command('llavaguard');",
                'registerScan(program);',
                'await program.parseAsync(process.argv);',
            ].join('\n'),
        );
        const policyFile = join(root, 'policy.json');
        await policy.save(policyFile);
        const pair = await cachedTestModel('onevision');
        const out = join(root, 'cli.jsonl');
        const args = [
            coll,
            '-m',
            pair.model,
            '--mmproj',
            pair.mmproj,
            '-o',
            out,
            '--policy',
            policyFile,
            '--seed',
            '7',
            '--max-tokens',
            '60',
            '--max-rationale-chars',
            '10',
            '--limit',
            String(LIMIT),
            '-t',
            '2',
        ];

        const killed = startCli(args);
        await waitForLines(out, 2, killed.child);
        killed.child.kill('SIGKILL');
        t.equal((await killed.exited).signal, 'SIGKILL');
        const afterKill = await linesIn(out);
        t.ok(afterKill >= 2 && afterKill < LIMIT, `${afterKill} records survived the kill`);

        const interrupted = startCli(args);
        await waitForLines(out, afterKill + 1, interrupted.child);
        interrupted.child.kill('SIGINT');
        const r2 = await interrupted.exited;
        t.equal(r2.code, 130, r2.stderr);
        t.match(r2.stdout, /interrupted after/);
        t.match(r2.stdout, new RegExp(`${afterKill} already done`));

        const finished = await startCli([...args, '--csv', join(root, 'cli.csv')]).exited;
        t.equal(finished.code, 0, finished.stderr);
        t.match(finished.stdout, new RegExp(`scanned ${LIMIT}/${LIMIT} images`));
        t.match(finished.stdout, /category\s+Safe\s+Unsafe/);
        t.notMatch(finished.stdout, /█/, 'no progress bar when stdout is not a TTY');
        t.match(finished.stdout, new RegExp(`csv: .*cli\\.csv \\(${LIMIT} rows\\)`));
        const records = await readJsonl(out);
        t.same(
            records.map((r) => r.path),
            full.slice(0, LIMIT).map((r) => r.path),
            'each image once, as in a library run',
        );
        t.same(
            records.map((r) => ('key' in r ? r.key : null)),
            full.slice(0, LIMIT).map((r) => ('key' in r ? r.key : null)),
            'same keys: same content, model and policy',
        );
    },
);
