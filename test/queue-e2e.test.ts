// The queue end to end against a real redis-server: worker processes on one queue of a generated collection,
// one SIGKILLed mid-chunk, Redis crashed and restarted from its AOF, one stopped with SIGTERM; the export
// must equal a local scan of the same collection, record for record.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { LlavaGuard, Policy } from '../lib/index.js';
import { enqueueScan, queueResults, queueStatus } from '../lib/queue/index.js';
import { openQueue } from '../lib/queue/connection.js';
import { queueKeys } from '../lib/queue/keys.js';
import { runScript } from '../lib/queue/scripts.js';
import { readScanResults } from '../lib/report/read.js';
import { scanImages, type ScanRecord } from '../lib/scan/index.js';
import { patternImage } from './helpers/models.js';
import { startCli, workerArgs, type CliRun } from './helpers/queue-cli.js';
import { queueTestFixture } from './helpers/redis-server.js';

process.env.LLAVAGUARD_THREADS ??= '1';
// One category keeps the prompt short (as the scan tests do); greedy, so every run gives the same verdicts.
const policy = Policy.default('v1.2').remove('O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9');
const sampling = { temperature: 0, maxTokens: 60, maxRationaleChars: 10 };
const UNIQUE = 130;
const COPIES = 50;
const CORRUPT = 20;
const CHUNK = 8;

const { root, redis } = await queueTestFixture(t, 'queue');
const coll = join(root, 'collection');

async function put(rel: string, data: Buffer) {
    await mkdir(dirname(join(coll, rel)), { recursive: true });
    await writeFile(join(coll, rel), data);
}
const paths: string[] = [];
for (let i = 0; i < UNIQUE; i++) {
    const img = patternImage(10 + (i % 7), 9 + (i % 5), i);
    const s = sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } });
    const rel = `${['a', 'b/c', 'd'][i % 3]}/img${String(i).padStart(3, '0')}.${i % 2 ? 'jpg' : 'png'}`;
    await put(rel, await (i % 2 ? s.jpeg() : s.png()).toBuffer());
    paths.push(rel);
}
for (let i = 0; i < COPIES; i++) {
    const rel = `copies/${i % 4}/copy${String(i).padStart(2, '0')}${paths[(i * 7) % UNIQUE]!.slice(-4)}`;
    await mkdir(dirname(join(coll, rel)), { recursive: true });
    await copyFile(join(coll, paths[(i * 7) % UNIQUE]!), join(coll, rel));
}
for (let i = 0; i < CORRUPT; i++) {
    const whole = await readFile(join(coll, paths[i % 10]!));
    // the same cut of the same file twice: duplicates among the corrupt ones too
    await put(
        `broken/cut${String(i).padStart(2, '0')}${paths[i % 10]!.slice(-4)}`,
        whole.subarray(0, 24 + (i % 10) * 4),
    );
}
const IMAGES = UNIQUE + COPIES + CORRUPT;

const pair = await cachedTestModel('onevision');
const target = { redis: redis.url, queue: 'e2e' };

const local: ScanRecord[] = [];
t.test('a local scan of the collection (the reference)', async (t) => {
    const guard = await LlavaGuard.load({ ...pair, threads: 1 });
    try {
        const gen = scanImages(guard, coll, { policy, ...sampling });
        for await (const r of gen) local.push(r);
    } finally {
        await guard.close();
    }
    t.equal(local.length, IMAGES, 'one record per file');
    t.equal(local.filter((r) => 'error' in r).length, CORRUPT, 'the cut files are error records');
});

t.test('adding the collection makes chunk jobs; adding it again adds none', async (t) => {
    const first = await enqueueScan(coll, { ...target, ...pair, policy, ...sampling, chunk: CHUNK });
    t.match(first, {
        images: IMAGES,
        chunks: Math.ceil(IMAGES / CHUNK),
        addedChunks: Math.ceil(IMAGES / CHUNK),
        addedImages: IMAGES,
    });
    const queue = new Queue(target.queue, { connection: { url: redis.url } });
    try {
        const before = await queue.getJobCounts();
        const again = await enqueueScan(coll, { ...target, ...pair, policy, ...sampling, chunk: CHUNK });
        t.match(again, { addedChunks: 0, addedImages: 0 });
        t.same(await queue.getJobCounts(), before, 'the same jobs, no more');
        t.equal(before.waiting, Math.ceil(IMAGES / CHUNK));
        await t.rejects(
            enqueueScan(coll, { ...target, ...pair, policy: policy.allow('O1'), ...sampling, chunk: CHUNK }),
            { name: 'QueueSettingsError', message: /pinned to other settings.*policy/ },
            'another policy on the same queue is refused',
        );
    } finally {
        await queue.close();
    }
});

t.test(
    'three workers, one SIGKILLed mid-chunk, Redis crashed and restarted from its AOF, one SIGTERMed: every image recorded once, as a local scan',
    async (t) => {
        t.ok(local.length === IMAGES, 'needs the local scan');
        const { queue: handle, redis: client } = await openQueue(target);
        t.teardown(() => handle.close());
        const keys = queueKeys(target.queue);
        const recorded = async () => Number(await runScript(client, 'hashLength', [keys.paths]));
        const namedWorker = (name: string) =>
            workerArgs(
                redis.url,
                target.queue,
                pair,
                '--name',
                name,
                '--until-empty',
                '--lock-duration',
                '4000',
                '--stalled-interval',
                '1000',
                '-t',
                '1',
            );
        const workers = new Map<string, CliRun>();
        const start = (name: string) => workers.set(name, startCli(namedWorker(name)));
        const until = async (what: string, ok: () => Promise<boolean>, ms = 240_000) => {
            const deadline = Date.now() + ms;
            while (!(await ok())) {
                if (Date.now() > deadline)
                    throw new Error(
                        `timed out waiting for ${what}\n${[...workers].map(([n, w]) => `${n}: ${w.output()}`).join('\n')}`,
                    );
                await new Promise((r) => setTimeout(r, 50));
            }
        };
        for (const name of ['w1', 'w2', 'w3']) start(name);

        // w2 dies in the middle of a chunk: some of its images recorded, not a whole chunk's worth
        await until('w2 mid-chunk', async () => {
            const n = Number((await client.hget(keys.workerImages, 'w2')) ?? 0);
            return n >= 3 && n % CHUNK !== 0;
        });
        workers.get('w2')!.child.kill('SIGKILL');
        t.equal((await workers.get('w2')!.exited).signal, 'SIGKILL');
        const atKill = await recorded();

        await until('40% recorded', async () => (await recorded()) >= IMAGES * 0.4);
        await redis.crashAndRestart();
        const afterRestart = await recorded();
        t.ok(afterRestart >= atKill, `the AOF kept what was recorded (${afterRestart} paths after the restart)`);
        start('w4'); // the dead worker's machine comes back

        await until('70% recorded', async () => (await recorded()) >= IMAGES * 0.7);
        const w3 = workers.get('w3')!;
        const stoppedAt = Date.now();
        w3.child.kill('SIGTERM');
        const r3 = await w3.exited;
        t.equal(
            r3.code,
            0,
            `SIGTERM: w3 finished its current images and exited 0 (${Date.now() - stoppedAt} ms)\n${r3.stderr}`,
        );
        t.match(r3.stderr, /SIGTERM: finishing the current images/);

        for (const name of ['w1', 'w4']) {
            const r = await workers.get(name)!.exited;
            t.equal(r.code, 0, `${name} emptied the queue and exited 0\n${r.stderr}`);
        }

        const status = await queueStatus(target);
        t.match(status.chunks, { waiting: 0, active: 0, delayed: 0, failed: 0 }, 'nothing left waiting or active');
        t.match(status.images, { added: IMAGES, recorded: IMAGES, left: 0 });
        t.same(
            status.workers.map((w) => w.worker),
            ['w1', 'w2', 'w3', 'w4'],
        );

        // the killed worker's chunk was taken over by the stalled-job check (and maybe others after the crash)
        const queue = new Queue(target.queue, { connection: { url: redis.url } });
        try {
            const jobs = await queue.getCompleted(0, -1);
            t.equal(jobs.length, Math.ceil(IMAGES / CHUNK), 'every chunk completed');
            const stalled = jobs.reduce((n, j) => n + j.stalledCounter, 0);
            t.ok(stalled >= 1, `${stalled} chunk takeovers after a lost lock`);
        } finally {
            await queue.close();
        }

        const out = join(root, 'queue.jsonl');
        const summary = await queueResults({ ...target, out });
        t.match(summary, { records: IMAGES, missing: 0, failed: 0, errors: CORRUPT });
        const read = await readScanResults(out);
        t.equal(read.records.length, IMAGES, 'the report reader takes it: one record per path');
        t.equal(read.superseded, 0);
        const exported = read.records;
        const byPath = new Map(local.map((r) => [r.path, r]));
        t.same(
            exported.map((r) => r.path),
            [...byPath.keys()].sort(),
            'the same paths as the local scan',
        );
        const verdict = (r: ScanRecord) => ({
            path: r.path,
            root: r.root,
            key: 'key' in r ? r.key : undefined,
            sha256: r.sha256,
            duplicateOf: r.duplicateOf,
            ...('error' in r
                ? { code: r.code }
                : {
                      rating: r.rating,
                      category: r.category,
                      rationale: r.rationale,
                      model: r.model,
                      policyHash: r.policyHash,
                  }),
        });
        t.same(
            exported.map(verdict),
            local.map(verdict).sort((a, b) => (a.path < b.path ? -1 : 1)),
            'the same records: keys, verdicts, duplicates, errors',
        );
        t.ok(
            exported.every(
                (r) => r.schema === 1 && r.assessedBy?.host === hostname() && /^w[1-4]$/.test(r.assessedBy.worker),
            ),
            'each record says which worker on which host rated it',
        );
        t.ok(new Set(exported.map((r) => r.assessedBy?.worker)).size >= 3, 'the work was shared');
    },
);

t.test('a worker with another model refuses to start, saying why', async (t) => {
    const other = await cachedTestModel('llava15');
    const r = await startCli(workerArgs(redis.url, target.queue, other, '--until-empty')).exited;
    t.equal(r.code, 1);
    t.match(
        r.stderr,
        /this worker's model is not the queue's: .*digest [0-9a-f]{12}.* every worker of a queue must load the same model files/,
    );
});
