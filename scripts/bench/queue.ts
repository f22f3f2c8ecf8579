// The queue's cost: images/s of a local scan against the same collection through the queue with 1 worker
// (in this process, on the same loaded guard, so the difference is the queue's work per image) and with
// 2 worker processes; Redis memory and commands per image, for the paper estimate in BENCHMARKS.md.
// Starts its own redis-server (AOF on, noeviction) on a free loopback port.
//
//   npm run bench:queue -- [--images N] [--repeats N] [--json]
//
// Options:
//   --images N     distinct images in the collection (default 48)
//   --repeats N    local / 1-worker runs, alternated (default 2); the fastest of each is kept
//   --no-two       skip the 2-worker run
//   --json         print the results as one JSON object (stdout) instead of a table

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { cachedTestModel } from '../../gguf/tiny-models.js';
import { LlavaGuard, Policy } from '../../lib/index.js';
import { enqueueScan, queueResults, runWorker } from '../../lib/queue/index.js';
import { openQueue } from '../../lib/queue/connection.js';
import { queueKeys } from '../../lib/queue/keys.js';
import { runScript } from '../../lib/queue/scripts.js';
import { scanImages } from '../../lib/scan/index.js';
import { startCli, workerArgs } from '../../test/helpers/queue-cli.js';
import { TestRedis, redisMissing } from '../../test/helpers/redis-server.js';
import { patternImage } from '../../test/helpers/models.js';

const { values: opt } = parseArgs({
    options: {
        images: { type: 'string', default: '48' },
        repeats: { type: 'string', default: '2' },
        'no-two': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
    },
});
const IMAGES = Number(opt.images);
const REPEATS = Number(opt.repeats);
if (!(Number.isInteger(IMAGES) && IMAGES >= 1 && Number.isInteger(REPEATS) && REPEATS >= 1))
    throw new Error('--images and --repeats must be positive integers');
const log = (s: string) => process.stderr.write(`[bench:queue] ${s}\n`);

const missing = redisMissing();
if (missing) throw new Error(missing);
process.env.LLAVAGUARD_THREADS ??= '1';

// the scan tests' settings: one category (a ~1k-token prompt), greedy, a short rationale
const policy = Policy.default('v1.2').remove('O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9');
const sampling = { temperature: 0, maxTokens: 60, maxRationaleChars: 10 };
const CHUNK = 8;

const root = await mkdtemp(path.join(os.tmpdir(), 'llavaguard-bench-queue-'));
const coll = path.join(root, 'collection');
await mkdir(coll, { recursive: true });
for (let i = 0; i < IMAGES; i++) {
    const img = patternImage(12 + (i % 5), 10 + (i % 3), 1000 + i);
    await writeFile(
        path.join(coll, `img${String(i).padStart(4, '0')}.png`),
        await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } })
            .png()
            .toBuffer(),
    );
}
const pair = await cachedTestModel('onevision');
const redis = await TestRedis.start();
const { queue: handle, redis: client } = await openQueue({ redis: redis.url, queue: 'bench-info' });
let queues = 0;
const freshQueue = async () => {
    const queue = `bench-${++queues}`;
    await enqueueScan(coll, { redis: redis.url, queue, ...pair, policy, ...sampling, chunk: CHUNK });
    return queue;
};
/** Bytes of the queue's chunk jobs (job hashes), by redis-cli's MEMORY USAGE. */
async function jobMemory(queue: string): Promise<number> {
    const cli = (...args: string[]) =>
        spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' }).stdout.trim();
    const keys = cli('--scan', '--pattern', `bull:${queue}:chunk-*`).split('\n').filter(Boolean);
    return keys.reduce((n, k) => n + Number(cli('MEMORY', 'USAGE', k, 'SAMPLES', '0')), 0);
}
const memory = async () => Number(/used_memory:(\d+)/.exec(await client.info())![1]);
const commands = async () => Number(/total_commands_processed:(\d+)/.exec(await client.info())![1]);

try {
    const guard = await LlavaGuard.load({ ...pair, threads: 1 });
    // warm-up: the first assessments build the guard's per-policy caches
    for await (const _ of scanImages(guard, coll, { policy, ...sampling, limit: 4 })) void _;
    const local: number[] = [];
    const one: number[] = [];
    const startup: number[] = [];
    let perImage = { commands: 0, jobBytes: 0, redisWaitMs: 0 };
    const runLocal = async () => {
        const t0 = performance.now();
        for await (const _ of scanImages(guard, coll, { policy, ...sampling })) void _;
        local.push(performance.now() - t0);
        log(`local scan: ${(local.at(-1)! / 1000).toFixed(2)} s`);
    };
    let lastQueue = '';
    const runQueue = async () => {
        const queue = await freshQueue();
        lastQueue = queue;
        const jobBytes = await jobMemory(queue);
        const cmd0 = await commands();
        let recorded = 0;
        let last = 0;
        let t0 = performance.now();
        const started = t0;
        const summary = await runWorker({
            redis: redis.url,
            queue,
            ...pair,
            guard,
            untilEmpty: true,
            // timed from ready (connected, settings checked) to the last record: the per-image cost
            onReady: () => {
                t0 = performance.now();
            },
            onChunk: ({ result }) => {
                recorded += result.recorded;
                if (recorded >= IMAGES) last = performance.now();
            },
        });
        one.push(last - t0);
        startup.push(t0 - started);
        // the worker's Redis commands per image (its polls included), the chunk jobs' memory per image
        perImage = {
            commands: ((await commands()) - cmd0) / IMAGES,
            jobBytes: jobBytes / IMAGES,
            redisWaitMs: summary.redisMs / IMAGES,
        };
        log(`1 worker: ${(one.at(-1)! / 1000).toFixed(2)} s`);
    };
    // alternated, so that a drift in the machine's load hits both
    for (let r = 0; r < REPEATS; r++) {
        if (r % 2 === 0) {
            await runLocal();
            await runQueue();
        } else {
            await runQueue();
            await runLocal();
        }
    }
    await guard.close();

    let two: number | undefined;
    if (!opt['no-two']) {
        const queue = await freshQueue();
        const workers = ['a', 'b'].map((name) =>
            startCli(workerArgs(redis.url, queue, pair, '--name', name, '--until-empty', '-q', '-t', '1')),
        );
        log('2 workers: loading');
        let since = performance.now();
        // timed from both ready (models loaded) to the last image recorded
        while (!workers.every((w) => /ready on queue/.test(w.output()))) {
            const dead = workers.find((w) => w.child.exitCode !== null);
            if (dead) throw new Error(`a worker exited: ${dead.output()}`);
            if (performance.now() - since > 30_000) {
                since = performance.now();
                log(`still loading: ${workers.map((w) => w.output().trim().split('\n').at(-1)).join(' | ')}`);
            }
            await new Promise((r) => setTimeout(r, 20));
        }
        const t0 = performance.now();
        let lastWord = performance.now();
        while (Number(await runScript(client, 'hashLength', [queueKeys(queue).paths])) < IMAGES) {
            const dead = workers.find((w) => w.child.exitCode !== null);
            if (dead) throw new Error(`a worker exited before the end: ${dead.output()}`);
            if (performance.now() - lastWord > 30_000) {
                lastWord = performance.now();
                log(`still running: ${workers.map((w) => w.output().trim().split('\n').at(-1)).join(' | ')}`);
            }
            await new Promise((r) => setTimeout(r, 20));
        }
        two = performance.now() - t0;
        for (const w of workers) {
            const r = await w.exited;
            if (r.code !== 0) throw new Error(`worker exited ${r.code}: ${r.stderr}`);
        }
        await queueResults({ redis: redis.url, queue, out: path.join(root, 'two.jsonl') });
        log(`2 workers: ${(two / 1000).toFixed(2)} s`);
    }

    // Redis memory at scale: the records of the last run copied under SCALE new names into two hashes (the
    // layout a big queue has: hashtables, not the small-hash listpacks of a few dozen entries)
    const SCALE = 100_000;
    log(`Redis memory: ${SCALE} records`);
    const source = queueKeys(lastQueue);
    const results = Object.values(await client.hgetall(source.results));
    const pathValues = Object.entries(await client.hgetall(source.paths));
    const mem0 = await memory();
    for (let i = 0; i < SCALE; i += 1000) {
        const pipe = client.pipeline();
        const r: Record<string, string> = {};
        const p: Record<string, string> = {};
        for (let k = i; k < Math.min(i + 1000, SCALE); k++) {
            const key = createHash('sha256').update(String(k)).digest('hex');
            r[key] = results[k % results.length]!;
            const [field, value] = pathValues[k % pathValues.length]!;
            p[field.replace(/img(\d+)/, `img$1-${k}`)] = value.replace(/"key":"[0-9a-f]{64}"/, `"key":"${key}"`);
        }
        pipe.hset('scale:results', r);
        pipe.hset('scale:paths', p);
        await pipe.exec();
    }
    const bytesPerImage = ((await memory()) - mem0) / SCALE;
    const meanResult = results.reduce((n, v) => n + v.length, 0) / results.length;

    const best = (xs: number[]) => Math.min(...xs);
    const rate = (ms: number) => IMAGES / (ms / 1000);
    const result = {
        images: IMAGES,
        chunk: CHUNK,
        cpu: os.cpus()[0]?.model,
        cores: os.cpus().length,
        load1: os.loadavg()[0],
        imagesPerSecond: {
            local: rate(best(local)),
            oneWorker: rate(best(one)),
            ...(two ? { twoWorkers: rate(two) } : {}),
        },
        overheadPerImageMs: (best(one) - best(local)) / IMAGES,
        overheadPercent: ((best(one) - best(local)) / best(local)) * 100,
        redis: { ...perImage, bytesPerImage, meanResultJsonBytes: meanResult },
        workerStartupMs: best(startup),
        runs: { localMs: local, oneWorkerMs: one, ...(two ? { twoWorkersMs: two } : {}) },
    };
    if (opt.json) console.log(JSON.stringify(result));
    else {
        const f = (n: number) => n.toFixed(2);
        console.log('| run | images/s | vs local |');
        console.log('|---|---:|---:|');
        console.log(`| local scan | ${f(result.imagesPerSecond.local)} | 1.00 |`);
        console.log(
            `| queue, 1 worker | ${f(result.imagesPerSecond.oneWorker)} | ${f(result.imagesPerSecond.oneWorker / result.imagesPerSecond.local)} |`,
        );
        if (result.imagesPerSecond.twoWorkers)
            console.log(
                `| queue, 2 workers | ${f(result.imagesPerSecond.twoWorkers)} | ${f(result.imagesPerSecond.twoWorkers / result.imagesPerSecond.local)} |`,
            );
        console.log(
            `\nqueue overhead at 1 worker: ${f(result.overheadPerImageMs)} ms an image (${f(result.overheadPercent)}%); ` +
                `the worker waited ${f(perImage.redisWaitMs)} ms an image for Redis (lookups and records, partly overlapped with the model)` +
                `\nRedis per image: ${bytesPerImage.toFixed(0)} bytes of results + paths at ${SCALE} images (records of ${meanResult.toFixed(0)} bytes of JSON), ` +
                `${perImage.jobBytes.toFixed(0)} bytes of chunk jobs while they wait, ${f(perImage.commands)} commands`,
        );
    }
} finally {
    await handle.close();
    await redis.stop();
    await rm(root, { recursive: true, force: true });
}
