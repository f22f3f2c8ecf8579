// One worker against a real redis-server: the chunk lock is renewed while the native code computes (a lock
// shorter than one assessment never lets the chunk be taken for a stall); unreadable images are permanent
// error records, not retried; a URL that fails for now is retried with backoff; the worker's model must be the
// queue's.
import { createServer } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { LlavaGuard, Policy } from '../lib/index.js';
import { enqueueScan, queueResults, runWorker, type RunWorkerOptions } from '../lib/queue/index.js';
import type { ScanRecord } from '../lib/scan/index.js';
import { patternImage } from './helpers/models.js';
import { queueTestFixture } from './helpers/redis-server.js';

process.env.LLAVAGUARD_THREADS ??= '1';
const { root, redis } = await queueTestFixture(t, 'queue-worker');
const pair = await cachedTestModel('onevision');
const guard = await LlavaGuard.load({ ...pair, threads: 1 });
t.teardown(() => guard.close());
const png = async (seed: number) => {
    const img = patternImage(14, 12, seed);
    return sharp(Buffer.from(img.data), { raw: { width: 14, height: 12, channels: 3 } })
        .png()
        .toBuffer();
};
const sampling = { temperature: 0, maxTokens: 60, maxRationaleChars: 10 };
const short = Policy.default('v1.2').remove('O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9');
const work = (queue: string, extra: Partial<RunWorkerOptions> = {}) =>
    runWorker({ redis: redis.url, queue, ...pair, guard, untilEmpty: true, ...extra });
const jobsOf = async (name: string) => {
    const queue = new Queue(name, { connection: { url: redis.url } });
    try {
        return { completed: await queue.getCompleted(0, -1), failed: await queue.getFailed(0, -1) };
    } finally {
        await queue.close();
    }
};
const exported = async (queue: string) => {
    const out = join(root, `${queue}.jsonl`);
    const summary = await queueResults({ redis: redis.url, queue, out });
    const records = (await readFile(out, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ScanRecord);
    return { summary, records };
};

t.test(
    'a lock shorter than one assessment is renewed while the model computes: no chunk is taken for a stall',
    async (t) => {
        const dir = join(root, 'lock');
        await import('node:fs/promises').then((fs) => fs.mkdir(dir));
        for (let i = 0; i < 4; i++) await writeFile(join(dir, `img${i}.png`), await png(i));
        // the whole default policy (~3.6k prompt tokens) and a long rationale: each assessment outlasts the lock
        await enqueueScan(dir, {
            redis: redis.url,
            queue: 'lock',
            ...pair,
            temperature: 0,
            maxTokens: 300,
            maxRationaleChars: 1000,
            chunk: 4,
        });
        // the lock: half of one assessment as this machine runs it now (at least 500 ms)
        const t0 = performance.now();
        await guard.assess(await png(99), { temperature: 0, maxTokens: 300, maxRationaleChars: 1000 });
        const LOCK_MS = Math.max(500, Math.round((performance.now() - t0) / 2));
        const summary = await work('lock', { lockDuration: LOCK_MS, stalledInterval: Math.round(LOCK_MS / 2) });
        t.equal(summary.assessed, 4, 'each image assessed once');
        const { completed, failed } = await jobsOf('lock');
        t.equal(failed.length, 0);
        t.equal(completed.length, 1);
        t.equal(completed[0]!.stalledCounter, 0, 'never taken for a stall');
        t.equal(completed[0]!.attemptsMade, 1, 'one attempt');
        const { records } = await exported('lock');
        const times = records.map((r) => ('timings' in r ? r.timings.totalMs : 0));
        t.ok(
            times.every((ms) => ms > LOCK_MS),
            `every assessment (${times.map((ms) => ms.toFixed(0)).join(', ')} ms) outlasted the ${LOCK_MS} ms lock`,
        );
    },
);

t.test('unreadable images are permanent error records; the chunk is not retried', async (t) => {
    const dir = join(root, 'bad');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    await writeFile(join(dir, 'good.png'), await png(7));
    await writeFile(join(dir, 'cut.png'), (await png(8)).subarray(0, 30));
    const manifest = join(dir, 'list.jsonl');
    await writeFile(manifest, ['good.png', 'cut.png', 'gone.png'].map((p) => JSON.stringify({ path: p })).join('\n'));
    await enqueueScan(manifest, { redis: redis.url, queue: 'bad', ...pair, policy: short, ...sampling });
    const summary = await work('bad');
    t.match(summary, { images: 3, assessed: 1, errors: 2 });
    const { completed, failed } = await jobsOf('bad');
    t.equal(failed.length, 0);
    t.equal(completed[0]!.attemptsMade, 1, 'completed at the first attempt');
    const { records } = await exported('bad');
    t.match(
        records.map((r) => [r.path, 'error' in r ? r.code : r.rating]),
        [
            ['cut.png', /CORRUPT|TRUNCATED|UNSUPPORTED/],
            ['gone.png', 'ENOENT'],
            ['good.png', /^(Safe|Unsafe)$/],
        ],
    );
    t.match(records[0], { key: /^[0-9a-f]{64}$/, sha256: /^[0-9a-f]{64}$/ }, 'a corrupt file is keyed by its content');
    t.notOk('key' in records[1]!, 'a missing file has no content key');
});

t.test(
    'http(s) URLs: fetched within limits; a passing failure retries the chunk with backoff, a 404 is recorded',
    async (t) => {
        const body = await png(9);
        let flaky = 0;
        const server = createServer((req, res) => {
            if (req.url === '/ok.png') return res.end(body);
            if (req.url === '/flaky.png') {
                // fails the first time, as an overloaded server does
                if (flaky++ === 0) return res.writeHead(503).end();
                return res.end(body);
            }
            if (req.url === '/big.png') return res.end(Buffer.alloc(2048));
            res.writeHead(404).end();
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        t.teardown(() => server.close());
        const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        const manifest = join(root, 'urls.jsonl');
        await writeFile(
            manifest,
            ['ok.png', 'flaky.png', 'missing.png', 'big.png']
                .map((p) => JSON.stringify({ path: `${base}/${p}` }))
                .join('\n'),
        );
        await enqueueScan(manifest, {
            redis: redis.url,
            queue: 'urls',
            ...pair,
            policy: short,
            ...sampling,
            backoffMs: 100,
        });
        const summary = await work('urls', { fetch: { maxBytes: 1024 } });
        t.equal(summary.retried, 1, 'the chunk was retried once');
        t.equal(summary.assessed, 1, 'the twin contents (ok, flaky) assessed once');
        const { completed } = await jobsOf('urls');
        t.equal(completed[0]!.attemptsMade, 2);
        const { records } = await exported('urls');
        t.match(
            records.map((r) => [r.path.slice(base.length), 'error' in r ? r.code : r.rating, r.duplicateOf ?? null]),
            [
                ['/big.png', 'TOO_LARGE', null],
                ['/flaky.png', /^(Safe|Unsafe)$/, null],
                ['/missing.png', 'HTTP_404', null],
                ['/ok.png', /^(Safe|Unsafe)$/, `${base}/flaky.png`],
            ],
        );
        t.notOk(
            records.some((r) => 'root' in r),
            'URLs have no root',
        );
    },
);

t.test(
    'twin contents within a chunk and across two chunks in progress at once are assessed once, without waiting on each other forever',
    { timeout: 120_000 },
    async (t) => {
        const dir = join(root, 'twins');
        await import('node:fs/promises').then((fs) => fs.mkdir(dir));
        const names = ['01-a', '02-a', '03-b', '04-c', '05-b', '06-c', '07-a', '08-c'];
        for (const name of names) await writeFile(join(dir, `${name}.png`), await png(100 + name.charCodeAt(3)));
        await enqueueScan(dir, { redis: redis.url, queue: 'twins', ...pair, policy: short, ...sampling, chunk: 4 });
        const summary = await work('twins', { concurrency: 2 });
        t.match(summary, { images: 8, assessed: 3, chunks: 2 });
        const { records } = await exported('twins');
        t.same(
            records.map((r) => r.duplicateOf ?? null),
            [null, '01-a.png', null, null, '03-b.png', '04-c.png', '01-a.png', '04-c.png'],
            'the first path of each content holds its record, as in a scan',
        );
    },
);

t.test('a worker whose model differs from the queue model refuses to start', async (t) => {
    const other = await cachedTestModel('llava15');
    await t.rejects(runWorker({ redis: redis.url, queue: 'lock', ...other }), {
        name: 'QueueModelMismatchError',
        message: /not the queue's/,
    });
    await t.rejects(runWorker({ redis: redis.url, queue: 'never-added', ...pair }), {
        name: 'QueueSettingsError',
        message: /nothing added yet/,
    });
});
