// runWorker: takes chunk jobs off a queue and rates their images with one loaded guard, until stopped
// (or, with `untilEmpty`, until the queue holds no work). Refuses to start with a model other than the queue's.
import { hostname } from 'node:os';
import { type Job, type Queue, Worker } from 'bullmq';
import { LlavaGuard } from '../guard/LlavaGuard.js';
import type { LlavaGuardLoadOptions } from '../guard/types.js';
import type { ModelIdentity } from '../scan/records.js';
import { processChunk, type ChunkResult, type WorkerCounters } from './chunk-processor.js';
import type { ChunkJobData } from './chunks.js';
import { bullConnection, checkTarget, openQueue, type QueueTarget } from './connection.js';
import { queueKeys } from './keys.js';
import { modelPairDigest } from './model-digest.js';
import type { FetchLimits } from './read-image.js';
import { QueueSettingsError, readSettings, settingsPolicy, type QueueSettings } from './settings.js';

export interface RunWorkerOptions
    extends QueueTarget,
        Pick<LlavaGuardLoadOptions, 'threads' | 'gpu' | 'gpuLayers' | 'flashAttention' | 'mmprojFlashAttention'> {
    /** The model pair; it must be the queue's (same GGUF metadata and tensor tables). */
    model: string;
    mmproj: string;
    /** A guard already loaded from `model` / `mmproj` (its image pipeline must be the queue's); closed by the caller. */
    guard?: LlavaGuard;
    /** Chunks in progress at once, and the guard's sequence slots: their assessments are decoded together. Default 1. */
    concurrency?: number;
    /** How records and `queue status` name this worker. Default host:pid. */
    name?: string;
    /** Stop once the queue holds no waiting, delayed or active chunk. */
    untilEmpty?: boolean;
    /** BullMQ's lock on a chunk, renewed at half this while the chunk runs. Default 30000 ms. */
    lockDuration?: number;
    /** How often this worker looks for chunks whose lock expired (a worker that died). Default 30000 ms. */
    stalledInterval?: number;
    /** Times a chunk may be taken back from dead workers before it counts as failed. Default 5. */
    maxStalledCount?: number;
    /** Tries of the model load (a passing failure: memory, a busy GPU), 5 s apart and doubling. Default 3. */
    loadAttempts?: number;
    fetch?: FetchLimits;
    /** Aborting stops the worker: current images finish, the rest of their chunks go back to the queue. */
    signal?: AbortSignal;
    /** After the model is loaded and the worker listens. */
    onReady?: (info: { worker: string; host: string; settings: QueueSettings }) => void;
    onChunk?: (info: { id: string; result: ChunkResult }) => void;
    /** Connection and lock troubles, reported and survived. */
    onWarning?: (message: string) => void;
}

export interface WorkerSummary extends WorkerCounters {
    worker: string;
    host: string;
    elapsedMs: number;
}

/** The worker's model is not the one the queue was created for. */
export class QueueModelMismatchError extends Error {
    override readonly name = 'QueueModelMismatchError';
}

const HEARTBEAT_MS = 5000;

export async function runWorker(options: RunWorkerOptions): Promise<WorkerSummary> {
    checkTarget(options);
    const started = performance.now();
    const host = hostname();
    const worker = options.name ?? `${host}:${process.pid}`;
    const concurrency = options.concurrency ?? 1;
    if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64))
        throw new RangeError('concurrency must be an integer from 1 to 64');
    const keys = queueKeys(options.queue);
    // a queue handle for our data and the empty check (the Worker has connections of its own)
    const { queue: probe, redis } = await openQueue(options);
    let guard = options.guard;
    let heartbeat: NodeJS.Timeout | undefined;
    let bull: Worker<ChunkJobData, ChunkResult> | undefined;
    const counters: WorkerCounters = {
        images: 0,
        assessed: 0,
        reused: 0,
        errors: 0,
        chunks: 0,
        handedBack: 0,
        retried: 0,
        redisMs: 0,
    };
    try {
        const settings = await readSettings(redis, keys);
        if (!settings)
            throw new QueueSettingsError(
                `queue ${options.queue} has nothing added yet: run \`llavaguard queue add\` first (it pins the model and policy)`,
            );
        const mine = await modelPairDigest(options.model, options.mmproj);
        if (mine.digest !== settings.model.digest)
            throw new QueueModelMismatchError(
                `this worker's model is not the queue's: ${mine.name} (${mine.file} + ${mine.mmprojFile}, digest ${mine.digest.slice(0, 12)}) ` +
                    `vs ${settings.model.name} (${settings.model.file} + ${settings.model.mmprojFile}, digest ${settings.model.digest.slice(0, 12)}); ` +
                    'every worker of a queue must load the same model files',
            );
        const policy = settingsPolicy(settings);
        if (policy.hash !== settings.policyHash)
            throw new QueueSettingsError(`the queue's policy does not hash to its pinned ${settings.policyHash}`);
        guard ??= await loadWithRetries(options, settings, concurrency);
        // the queue's names for the model: keys equal a local scan's of the same files, whatever they are called here
        const model: ModelIdentity = {
            name: settings.model.name,
            file: settings.model.file,
            bytes: settings.model.bytes,
            imagePipeline: guard.imagePipeline.name,
        };

        const beat = () =>
            redis
                .hset(keys.workers, {
                    [worker]: JSON.stringify({
                        host,
                        pid: process.pid,
                        concurrency,
                        started: Date.now() - (performance.now() - started),
                        lastSeen: Date.now(),
                        ...counters,
                    }),
                })
                .catch(() => {});
        await beat();
        heartbeat = setInterval(beat, HEARTBEAT_MS);

        let stopping = false;
        const inFlight = new Map<string, Promise<void>>();
        bull = new Worker<ChunkJobData, ChunkResult>(
            options.queue,
            (job: Job<ChunkJobData>, token?: string) =>
                processChunk(
                    {
                        redis,
                        keys,
                        guard: guard!,
                        policy,
                        sampling: settings.sampling,
                        model,
                        by: { worker, host },
                        fetch: options.fetch,
                        inFlight,
                        stopping: () => stopping,
                        counters,
                    },
                    job,
                    token,
                ),
            {
                connection: bullConnection(options.redis),
                concurrency,
                name: worker,
                lockDuration: options.lockDuration ?? 30_000,
                stalledInterval: options.stalledInterval ?? 30_000,
                maxStalledCount: options.maxStalledCount ?? 5,
                autorun: false,
            },
        );
        bull.on('error', (error) => options.onWarning?.(`queue: ${error.message}`));
        bull.on('completed', (job, result) => options.onChunk?.({ id: job.id ?? '?', result }));
        bull.on('failed', (job, error) => {
            if (error?.name !== 'WaitingError') options.onWarning?.(`chunk ${job?.id}: ${error.message}`);
        });

        const stop = () => {
            stopping = true;
        };
        options.signal?.addEventListener('abort', stop, { once: true });
        const running = bull.run();
        await bull.waitUntilReady();
        options.onReady?.({ worker, host, settings });

        const done = new Promise<void>((resolve) => {
            if (options.signal?.aborted) stop();
            const poll = setInterval(async () => {
                if (!stopping && options.untilEmpty) {
                    try {
                        if (await queueIsEmpty(probe)) stop();
                    } catch {
                        // Redis away: try again at the next tick
                    }
                }
                if (stopping) {
                    clearInterval(poll);
                    resolve();
                }
            }, 250);
        });
        await done;
        // waits for the active chunks, which hand the rest back after their current image
        await bull.close();
        await running.catch(() => {});
        options.signal?.removeEventListener('abort', stop);
        await beat();
    } finally {
        if (heartbeat) clearInterval(heartbeat);
        await bull?.close();
        if (guard && !options.guard) await guard.close();
        await probe.close();
    }
    return { worker, host, ...counters, elapsedMs: performance.now() - started };
}

async function loadWithRetries(options: RunWorkerOptions, settings: QueueSettings, sequences: number) {
    const attempts = options.loadAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
        try {
            return await LlavaGuard.load({
                model: options.model,
                mmproj: options.mmproj,
                sequences,
                threads: options.threads,
                gpu: options.gpu,
                gpuLayers: options.gpuLayers,
                flashAttention: options.flashAttention,
                mmprojFlashAttention: options.mmprojFlashAttention,
                imagePipeline: settings.imagePipeline,
            });
        } catch (error) {
            if (attempt >= attempts) throw error;
            const wait = 5000 * 2 ** (attempt - 1);
            options.onWarning?.(`model load failed (${(error as Error).message}); trying again in ${wait / 1000} s`);
            await new Promise((r) => setTimeout(r, wait));
        }
    }
}

/** No chunk waiting (paused included), delayed, prioritized or active. */
async function queueIsEmpty(queue: Queue): Promise<boolean> {
    const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
    return Object.values(counts).every((n) => n === 0);
}
