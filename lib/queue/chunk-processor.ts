// One chunk job on a worker: each image read (file or URL), hashed, looked up by its record key in the
// queue's results, assessed only when nobody has, and recorded with one atomic script, so a chunk that is
// retried or taken over after a crash rewrites nothing that is done.
import { createHash } from 'node:crypto';
import { type Job, type RedisClient, UnrecoverableError, WaitingError } from 'bullmq';
import type { AssessOptions } from '../guard/types.js';
import { loadImage } from '../image/index.js';
import type { RgbImage } from '../image/types.js';
import type { Policy } from '../policy/index.js';
import { prefetch } from '../scan/prefetch.js';
import {
    errorRecord,
    recordKey,
    verdictRecord,
    type AssessedBy,
    type ModelIdentity,
    type ScanGuard,
    type ScanRecord,
} from '../scan/index.js';
import { checkChunkData, type ChunkImage, type ChunkJobData } from './chunks.js';
import { pathField, RATE_BUCKET_S, RATE_KEEP_S, type QueueKeys } from './keys.js';
import { ImageReadError, readImageBytes, type FetchLimits } from './read-image.js';
import { runScript } from './scripts.js';
import type { QueueSampling } from './settings.js';

/** What the chunks of one worker share. */
export interface ChunkContext {
    redis: RedisClient;
    keys: QueueKeys;
    guard: ScanGuard;
    policy: Policy;
    sampling: QueueSampling;
    /** The queue's model identity: record keys equal a local scan's with the same files. */
    model: ModelIdentity;
    by: AssessedBy;
    fetch?: FetchLimits;
    /** Content keys this process is assessing now: a duplicate waits for the first instead of assessing again. */
    inFlight: Map<string, Promise<void>>;
    /** True once the worker is asked to stop: chunks hand the rest of their images back after the current one. */
    stopping: () => boolean;
    counters: WorkerCounters;
}

export interface WorkerCounters {
    /** Paths this worker recorded. */
    images: number;
    /** Assessments it ran. */
    assessed: number;
    /** Paths whose content another chunk or worker had already rated. */
    reused: number;
    /** Error records it wrote. */
    errors: number;
    chunks: number;
    /** Chunks handed back unfinished (stop) or retried (passing read failures). */
    handedBack: number;
    retried: number;
    /** Time spent waiting for Redis on images (lookups and records; not BullMQ's own per-chunk work), ms. */
    redisMs: number;
}

export interface ChunkResult {
    images: number;
    recorded: number;
    assessed: number;
}

type Prepared =
    | { image: ChunkImage; field: string; action: 'done' }
    | { image: ChunkImage; field: string; action: 'readError'; error: ImageReadError | Error }
    | { image: ChunkImage; field: string; action: 'known'; key: string }
    | { image: ChunkImage; field: string; action: 'wait'; key: string; first: Promise<void> }
    | {
          image: ChunkImage;
          field: string;
          action: 'assess';
          key: string;
          bytes: number;
          sha256: string;
          rgb?: RgbImage;
          error?: unknown;
          settle: () => void;
      };

export async function processChunk(ctx: ChunkContext, job: Job<ChunkJobData>, token?: string): Promise<ChunkResult> {
    let data: ChunkJobData;
    try {
        data = checkChunkData(job.data);
    } catch (error) {
        // bad job data does not get better on retry
        throw new UnrecoverableError((error as Error).message);
    }
    const { redis, keys, guard, counters } = ctx;
    const maxSide = guard.imagePipeline?.maxDecodeSide;
    const transient: { path: string; error: Error }[] = [];
    // assessments this chunk announced in ctx.inFlight: all are settled when it ends, however it ends
    const unsettled = new Set<() => void>();
    let ended = false;
    const handBack = async (): Promise<never> => {
        // what is recorded stays; the next taker skips it
        counters.handedBack++;
        await job.moveToWait(token);
        throw new WaitingError();
    };
    const result: ChunkResult = { images: data.images.length, recorded: 0, assessed: 0 };
    const timed = async <T>(call: Promise<T>): Promise<T> => {
        const t0 = performance.now();
        try {
            return await call;
        } finally {
            counters.redisMs += performance.now() - t0;
        }
    };

    type Read =
        | { image: ChunkImage; field: string; action: 'done' }
        | { image: ChunkImage; field: string; action: 'readError'; error: Error }
        | { image: ChunkImage; field: string; action: 'content'; buf: Buffer; sha256: string; key: string };
    const read = async (image: ChunkImage): Promise<Read> => {
        const field = pathField(image.path, image.root);
        if ((await timed(redis.hexists(keys.paths, field))) === 1) return { image, field, action: 'done' };
        try {
            const buf = await readImageBytes(image, ctx.fetch);
            const sha256 = createHash('sha256').update(buf).digest('hex');
            return { image, field, action: 'content', buf, sha256, key: recordKey(sha256, ctx.model, ctx.policy.hash) };
        } catch (error) {
            return { image, field, action: 'readError', error: error as Error };
        }
    };
    // Decided in list order (reads run ahead concurrently): an image only ever waits for a twin decided
    // before it, so the chunks of this process never wait on each other in a circle.
    const decide = async (r: Read): Promise<Prepared> => {
        if (r.action !== 'content') return r;
        const { image, field, key } = r;
        if ((await timed(redis.hexists(keys.results, key))) === 1) return { image, field, action: 'known', key };
        // a read-ahead that finishes after the chunk ended announces nothing
        if (ended) return { image, field, action: 'done' };
        const first = ctx.inFlight.get(key);
        if (first) return { image, field, action: 'wait', key, first };
        let settle!: () => void;
        ctx.inFlight.set(
            key,
            new Promise<void>((resolve) => {
                settle = () => {
                    if (!unsettled.delete(settle)) return;
                    ctx.inFlight.delete(key);
                    resolve();
                };
            }),
        );
        unsettled.add(settle);
        return { image, field, action: 'assess', key, bytes: r.buf.length, sha256: r.sha256, settle };
    };
    let turn: Promise<unknown> = Promise.resolve();
    const prepare = async (image: ChunkImage): Promise<Prepared> => {
        const reading = read(image);
        const decided = turn.then(async () => decide(await reading));
        turn = decided.catch(() => {});
        const d = await decided;
        if (d.action !== 'assess') return d;
        try {
            const { buf } = (await reading) as Extract<Read, { action: 'content' }>;
            return { ...d, rgb: await loadImage(buf, { maxSide }) };
        } catch (error) {
            return { ...d, error };
        }
    };

    const record = async (field: string, key: string, content: ScanRecord | undefined, path: object) => {
        const fresh = await timed(
            runScript(
                redis,
                'record',
                [
                    keys.results,
                    keys.paths,
                    keys.rate(Math.floor(Date.now() / 1000 / RATE_BUCKET_S) * RATE_BUCKET_S),
                    keys.workerImages,
                ],
                [key, content ? JSON.stringify(content) : '', field, JSON.stringify(path), ctx.by.worker, RATE_KEEP_S],
            ),
        );
        if (fresh === 1) {
            result.recorded++;
            counters.images++;
        }
    };

    const settle = async (item: Prepared) => {
        const at = { path: item.image.path, root: item.image.root };
        switch (item.action) {
            case 'done':
                return;
            case 'readError': {
                if (item.error instanceof ImageReadError && item.error.transient) {
                    transient.push({ path: item.image.path, error: item.error });
                    return;
                }
                // not content: the path itself holds the error record
                const { path: _p, root: _r, ...rest } = errorRecord(at, item.error);
                counters.errors++;
                return record(item.field, '', undefined, { ...rest, assessedBy: ctx.by });
            }
            case 'known':
                counters.reused++;
                return record(item.field, item.key, undefined, { key: item.key });
            case 'wait':
                await item.first;
                if ((await redis.hexists(keys.results, item.key)) === 0) {
                    // the first chunk with this content stopped before rating it
                    if (ctx.stopping()) return handBack();
                    transient.push({ path: item.image.path, error: new Error('its twin was not rated yet') });
                    return;
                }
                counters.reused++;
                return record(item.field, item.key, undefined, { key: item.key });
            case 'assess': {
                try {
                    const meta = { ...at, bytes: item.bytes, sha256: item.sha256, key: item.key };
                    let content: ScanRecord;
                    if (item.error !== undefined) {
                        content = errorRecord(meta, item.error);
                    } else {
                        counters.assessed++;
                        result.assessed++;
                        const rgb = item.rgb!;
                        try {
                            const a = await guard.assess(
                                { data: rgb.data, width: rgb.width, height: rgb.height, channels: 3 },
                                { policy: ctx.policy, ...ctx.sampling } satisfies AssessOptions,
                            );
                            content = verdictRecord(meta, a, ctx.model);
                        } catch (error) {
                            content = errorRecord(meta, error);
                        }
                    }
                    if ('error' in content) counters.errors++;
                    const { path: _p, root: _r, ...stored } = content;
                    await record(item.field, item.key, { ...stored, assessedBy: ctx.by } as ScanRecord, {
                        key: item.key,
                    });
                } finally {
                    item.settle();
                }
                return;
            }
        }
    };

    try {
        // one image decoded ahead while the current one is assessed; the rest is read when its turn comes
        for await (const item of prefetch(data.images, 2, prepare)) {
            if (ctx.stopping()) await handBack();
            await settle(item);
        }
    } finally {
        ended = true;
        for (const s of [...unsettled]) s();
    }
    if (transient.length > 0) {
        counters.retried++;
        const first = transient[0]!;
        throw new Error(
            `${transient.length} of ${data.images.length} images could not be read for now (first: ${first.path}: ${first.error.message}); the chunk is tried again`,
        );
    }
    counters.chunks++;
    return result;
}
