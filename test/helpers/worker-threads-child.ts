// Child process of test/worker-threads.test.ts (and, in a worker thread, its workers). As the main thread: loads
// a guard here and in 4 worker threads at once, all assessing concurrently; terminates one worker in the middle of
// a generation; lets another exit without closing its guard; then ends without process.exit, so that the
// addon's environment cleanup runs in every thread. Prints WORKER_THREADS_OK when every assessment came back.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { LlavaGuard } from '../../lib/index.js';

interface Job {
    model: string;
    mmproj: string;
    /** 'assess': assess `images` images and report; 'victim': stream until terminated. */
    role: 'assess' | 'victim';
    images: number;
    seed: number;
    /** Leave the guard open when the worker ends (its environment's teardown must free it). */
    leaveOpen?: boolean;
}

function image(seed: number, size = 24) {
    const data = new Uint8Array(size * size * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 97 + ((i / 3) >> 2) * 7) & 255;
    return { data, width: size, height: size, channels: 3 as const };
}

async function assessAll(job: Job): Promise<string[]> {
    const guard = await LlavaGuard.load({ model: job.model, mmproj: job.mmproj, threads: 1 });
    const ratings: string[] = [];
    for (let i = 0; i < job.images; i++) {
        const a = await guard.assess(image(job.seed * 10 + i), { rationale: false, seed: i });
        ratings.push(a.rating);
    }
    if (!job.leaveOpen) await guard.close();
    return ratings;
}

async function victim(job: Job): Promise<void> {
    const guard = await LlavaGuard.load({ model: job.model, mmproj: job.mmproj, threads: 1 });
    // Generations back to back: whenever the terminate lands, one is running.
    for (let round = 0; ; round++) {
        for await (const event of guard.assessStream(image(job.seed + round), { seed: round })) {
            if (event.type === 'token') parentPort!.postMessage({ type: 'generating' });
        }
    }
}

if (!isMainThread) {
    const job = workerData as Job;
    if (job.role === 'victim') await victim(job);
    else parentPort!.postMessage({ type: 'done', ratings: await assessAll(job) });
} else {
    const [model, mmproj] = process.argv.slice(2) as [string, string];
    const images = Number(process.env.WORKER_THREADS_IMAGES ?? 2);
    const spawnWorker = (job: Job) => new Worker(new URL(import.meta.url), { workerData: job });
    const finished = (w: Worker) =>
        new Promise<string[]>((resolve, reject) => {
            w.on('message', (m) => m.type === 'done' && resolve(m.ratings));
            w.on('error', reject);
            w.on('exit', (code) => reject(new Error(`worker exited (${code}) before reporting`)));
        });
    const workers = [0, 1, 2].map((i) =>
        spawnWorker({ model, mmproj, role: 'assess', images, seed: i + 1, leaveOpen: i === 2 }),
    );
    const victimWorker = spawnWorker({ model, mmproj, role: 'victim', images: 0, seed: 9 });
    const terminated = new Promise<number>((resolve, reject) => {
        victimWorker.once('message', () => {
            // Mid-generation: the worker just posted a token of its first stream.
            victimWorker.terminate().then(resolve, reject);
        });
        victimWorker.on('error', reject);
    });
    const results = await Promise.all([
        assessAll({ model, mmproj, role: 'assess', images, seed: 0 }),
        ...workers.map(finished),
        terminated,
    ]);
    const ratings = results.slice(0, 4) as string[][];
    if (!ratings.every((r) => r.length === images && r.every((x) => x === 'Safe' || x === 'Unsafe'))) {
        throw new Error(`unexpected ratings ${JSON.stringify(ratings)}`);
    }
    (globalThis as { gc?: () => void }).gc?.();
    console.log(`WORKER_THREADS_OK ${JSON.stringify({ ratings, victimExit: results[4] })}`);
}
