// The scan's records and its recovery: one record per image, duplicates assessed once, resume after a crash or
// an abort (in the library and in the CLI under kill -9 and Ctrl-C), the CSV export.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { exportCsv, isVerdict, pathsFromCsv, recordsToCsv, scanImages, type ScanRecord } from '../lib/scan/index.js';
import { linesIn, scanCli, scanModule, waitForLines } from './helpers/scan-cli.js';
import {
    ASSESSABLE,
    IMAGES,
    drain,
    makeCollection,
    policy,
    readJsonl,
    runOptions,
    scanGuard,
} from './helpers/scan-collection.js';

const { root, coll, uniquePaths } = await makeCollection(t);
const { realGuard, countingGuard } = scanGuard(t);

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

t.test(
    'the CLI survives kill -9 and Ctrl-C: a rerun resumes and ends with each image recorded once',
    { skip: existsSync(scanModule) ? false : 'no compiled CLI' },
    async (t) => {
        t.ok(full.length === IMAGES, 'needs the full run');
        const LIMIT = 6;
        t.comment(`CLI from ${scanModule}`);
        const startCli = await scanCli(root);
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
