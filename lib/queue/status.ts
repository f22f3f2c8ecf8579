// queueStatus: chunks by state, images added and recorded, images/s over the last minutes, ETA, per worker.
import { openQueue, type QueueTarget } from './connection.js';
import { runScript } from './scripts.js';
import { queueKeys, RATE_BUCKET_S } from './keys.js';
import { readSettings } from './settings.js';

export interface WorkerStatus {
    worker: string;
    host: string;
    pid: number;
    concurrency: number;
    /** Heard from within the last 30 s. */
    alive: boolean;
    lastSeen: string;
    /** Paths it recorded, all time. */
    images: number;
    /** Over the rate window. */
    imagesPerSecond: number;
}

export interface QueueStatus {
    queue: string;
    paused: boolean;
    /** What the queue is pinned to (absent before the first add). */
    settings?: { model: string; digest: string; policyHash: string; imagePipeline: string };
    chunks: { waiting: number; active: number; delayed: number; completed: number; failed: number };
    images: { added: number; recorded: number; left: number };
    /** Images recorded per second over `windowSeconds` (the last minutes, or since the first record in them). */
    imagesPerSecond: number;
    windowSeconds: number;
    /** Seconds until every added image is recorded at that rate; null when nothing moves. */
    etaSeconds: number | null;
    workers: WorkerStatus[];
}

export interface QueueStatusOptions extends QueueTarget {
    /** Rate window in seconds. Default 300. */
    windowSeconds?: number;
}

const ALIVE_MS = 30_000;

export async function queueStatus(options: QueueStatusOptions): Promise<QueueStatus> {
    const keys = queueKeys(options.queue);
    const { queue, redis } = await openQueue(options);
    try {
        const [settings, counts, paused, added, recorded, workersRaw, workerImages] = await Promise.all([
            readSettings(redis, keys),
            queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'),
            queue.isPaused(),
            redis.hget(keys.counts, 'images'),
            runScript(redis, 'hashLength', [keys.paths]).then(Number),
            redis.hgetall(keys.workers),
            redis.hgetall(keys.workerImages),
        ]);
        // rate: the buckets of the window; it starts at the first bucket with work in it
        const now = Date.now() / 1000;
        const window = options.windowSeconds ?? 300;
        const current = Math.floor(now / RATE_BUCKET_S) * RATE_BUCKET_S;
        const starts: number[] = [];
        for (let b = current; b > now - window; b -= RATE_BUCKET_S) starts.push(b);
        const pipe = redis.pipeline();
        for (const b of starts) pipe.hgetall(keys.rate(b));
        const replies = (await pipe.exec()) ?? [];
        const buckets = replies.map(([, v]) => (v ?? {}) as Record<string, string>);
        const firstBusy = starts.reduce((first, b, i) => (Object.keys(buckets[i]!).length > 0 ? b : first), now);
        const span = Math.max(now - firstBusy, 1);
        const sum = (field: string) => buckets.reduce((n: number, b) => n + Number(b[field] ?? 0), 0);
        const imagesPerSecond = sum('all') / span;
        const addedImages = Number(added ?? 0);
        const left = Math.max(0, addedImages - Number(recorded));
        const workers: WorkerStatus[] = Object.entries(workersRaw as Record<string, string>).map(([worker, raw]) => {
            const w = JSON.parse(raw) as { host: string; pid: number; concurrency: number; lastSeen: number };
            return {
                worker,
                host: w.host,
                pid: w.pid,
                concurrency: w.concurrency,
                alive: Date.now() - w.lastSeen < ALIVE_MS,
                lastSeen: new Date(w.lastSeen).toISOString(),
                images: Number((workerImages as Record<string, string>)[worker] ?? 0),
                imagesPerSecond: sum(worker) / span,
            };
        });
        workers.sort((a, b) => (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0));
        return {
            queue: options.queue,
            paused,
            ...(settings
                ? {
                      settings: {
                          model: settings.model.name,
                          digest: settings.model.digest,
                          policyHash: settings.policyHash,
                          imagePipeline: settings.imagePipeline,
                      },
                  }
                : {}),
            chunks: {
                waiting: counts.waiting + counts.prioritized,
                active: counts.active,
                delayed: counts.delayed,
                completed: counts.completed,
                failed: counts.failed,
            },
            images: { added: addedImages, recorded, left },
            imagesPerSecond,
            windowSeconds: Math.round(span),
            etaSeconds: left === 0 ? 0 : imagesPerSecond > 0 ? left / imagesPerSecond : null,
            workers,
        };
    } finally {
        await queue.close();
    }
}
