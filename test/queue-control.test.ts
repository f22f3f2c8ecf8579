// The queue commands as a user runs them (llavaguard queue add / status / pause / resume / drain / retry-failed
// / results) against a real redis-server.
import { createServer } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { runWorker, type QueueStatus } from '../lib/queue/index.js';
import { patternImage } from './helpers/models.js';
import { startCli } from './helpers/queue-cli.js';
import { queueTestFixture } from './helpers/redis-server.js';

process.env.LLAVAGUARD_THREADS ??= '1';
const { root, redis } = await queueTestFixture(t, 'queue-control');
const pair = await cachedTestModel('onevision');
const dir = join(root, 'photos');
await mkdir(dir);
for (let i = 0; i < 6; i++) {
    const img = patternImage(12, 10, i);
    await writeFile(
        join(dir, `p${i}.png`),
        await sharp(Buffer.from(img.data), { raw: { width: 12, height: 10, channels: 3 } })
            .png()
            .toBuffer(),
    );
}

const cli = async (...args: string[]) => {
    const r = await startCli(args).exited;
    return { ...r, out: r.stdout.trim() };
};
const target = (queue: string) => ['--redis', redis.url, '--queue', queue];
const status = async (queue: string) =>
    JSON.parse((await cli('queue', 'status', ...target(queue), '--json')).out) as QueueStatus;
const add = (queue: string, source: string, ...extra: string[]) =>
    cli('queue', 'add', source, ...target(queue), '-m', pair.model, '--mmproj', pair.mmproj, '--chunk', '2', ...extra);

t.test('add, status, pause, resume, drain: chunks come and go as the commands say', async (t) => {
    const first = await add('photos', dir);
    t.equal(first.code, 0, first.stderr);
    t.match(first.out, /6 images in 3 chunks; added 3 chunks \(6 images\), 0 were already there/);
    t.match(first.out, /pinned: model llavaguard-tiny-onevision \(digest [0-9a-f]{12}\), policy [0-9a-f]{16}/);
    t.match((await add('photos', dir)).out, /added 0 chunks \(0 images\), 3 were already there/);
    let s = await status('photos');
    t.match(s, { paused: false, chunks: { waiting: 3, active: 0 }, images: { added: 6, recorded: 0, left: 6 } });
    t.equal(s.etaSeconds, null, 'no ETA before anything moved');

    t.match((await cli('queue', 'pause', ...target('photos'))).out, /paused/);
    t.equal((await status('photos')).paused, true);
    t.match((await cli('queue', 'resume', ...target('photos'))).out, /resumed/);
    t.equal((await status('photos')).paused, false);

    t.match((await cli('queue', 'drain', ...target('photos'))).out, /^3 waiting chunks removed/);
    s = await status('photos');
    t.match(s, { chunks: { waiting: 0 }, images: { added: 0 } });
    t.match((await add('photos', dir)).out, /added 3 chunks \(6 images\)/, 'adding again brings drained chunks back');
    const text = (await cli('queue', 'status', ...target('photos'))).out;
    t.match(text, /chunks\s+waiting 3\s+active 0/);
    t.match(text, /images\s+0\/6 recorded, 6 left/);
});

t.test(
    'a chunk that keeps failing for now ends failed; results writes its images as QUEUE_FAILED records; retry-failed puts it back',
    async (t) => {
        let up = false;
        const server = createServer((_req, res) =>
            up ? res.end(Buffer.from('not an image')) : res.writeHead(503).end(),
        );
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        t.teardown(() => server.close());
        const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/x.png`;
        const manifest = join(root, 'urls.jsonl');
        await writeFile(manifest, `${JSON.stringify({ path: url })}\n`);
        t.equal((await add('urls', manifest, '--attempts', '1')).code, 0);
        const worker = { redis: redis.url, queue: 'urls', ...pair, untilEmpty: true };
        t.match(await runWorker(worker), { images: 0, retried: 1 });
        t.match((await status('urls')).chunks, { failed: 1, waiting: 0 });

        const out = join(root, 'urls.jsonl.out');
        const r1 = await cli('queue', 'results', ...target('urls'), '--out', out);
        t.equal(r1.code, 0, 'every added image has a record (the failed one says so)');
        t.match(r1.out, /1 records \(0 verdicts, 1 errors, 0 duplicates by content\); 1 of them from failed chunks/);
        t.match(JSON.parse(await readFile(out, 'utf8')), { path: url, code: 'QUEUE_FAILED', error: /HTTP 503/ });

        up = true;
        t.match((await cli('queue', 'retry-failed', ...target('urls'))).out, /^1 failed chunks back to waiting/);
        t.match(await runWorker(worker), { images: 1, errors: 1 });
        await cli('queue', 'results', ...target('urls'), '--out', out);
        t.match(JSON.parse(await readFile(out, 'utf8')), { path: url, code: /CORRUPT|UNSUPPORTED/ });
        t.match((await status('urls')).chunks, { failed: 0, waiting: 0, active: 0 });
    },
);

t.test('results exits 2 when added images are not recorded yet', async (t) => {
    const r = await cli('queue', 'results', ...target('photos'), '--out', join(root, 'partial.jsonl'));
    t.equal(r.code, 2);
    t.match(r.stderr, /6 added images are not recorded yet/);
});

t.test('bad targets are refused with a clear error', async (t) => {
    const r = await cli('queue', 'status', '--redis', 'http://x', '--queue', 'q');
    t.equal(r.code, 1);
    t.match(r.stderr, /--redis must be a redis:\/\/ or rediss:\/\/ URL/);
    const r2 = await cli('queue', 'status', '--redis', redis.url, '--queue', 'no:colons');
    t.match(r2.stderr, /--queue must be 1-100 letters/);
});
