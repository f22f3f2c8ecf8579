// The Redis keys of a queue's own data, beside BullMQ's under the same prefix (so `obliterate` removes both).

/** BullMQ's default key prefix; a queue named NAME lives under `bull:NAME:`. */
export const QUEUE_PREFIX = 'bull';

export interface QueueKeys {
    /** The pinned settings (model digest, policy, sampling), one JSON string. */
    settings: string;
    /** Counters: `images` (added to the queue). */
    counts: string;
    /** Set of chunk job ids ever added: adding the same chunk again adds nothing. */
    chunks: string;
    /** Hash: record key (content + model + policy) -> the content's record without path. */
    results: string;
    /** Hash: path field ({@link pathField}) -> `{ key }` or a path-level error. */
    paths: string;
    /** Hash: worker id -> its last heartbeat (JSON). */
    workers: string;
    /** Hash: worker id -> images it recorded. */
    workerImages: string;
    /** Per-bucket counters of recorded images (`all` and per worker), for images/s. */
    rate: (bucketStart: number) => string;
}

export function queueKeys(queue: string): QueueKeys {
    const base = `${QUEUE_PREFIX}:${queue}:llavaguard`;
    return {
        settings: `${base}:settings`,
        counts: `${base}:counts`,
        chunks: `${base}:chunks`,
        results: `${base}:results`,
        paths: `${base}:paths`,
        workers: `${base}:workers`,
        workerImages: `${base}:worker-images`,
        rate: (bucketStart) => `${base}:rate:${bucketStart}`,
    };
}

/** Seconds per images/s bucket, and how long buckets are kept. */
export const RATE_BUCKET_S = 10;
export const RATE_KEEP_S = 3600;

/** One field per image location: its path, and the root a relative path is relative to. */
export function pathField(path: string, root: string | undefined): string {
    return root === undefined ? path : `${path}\0${root}`;
}

export function parsePathField(field: string): { path: string; root?: string } {
    const i = field.indexOf('\0');
    return i < 0 ? { path: field } : { path: field.slice(0, i), root: field.slice(i + 1) };
}
