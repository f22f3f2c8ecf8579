// The Redis connection: BullMQ's own (its driver, ioredis by default, is loaded when a queue first connects,
// so the library loads without one), with commands that wait out a Redis restart instead of failing.
import { Queue, type RedisClient } from 'bullmq';

export interface QueueTarget {
    /** redis://[user:password@]host:port[/db] (rediss:// for TLS). */
    redis: string;
    /** The queue's name: one collection, model and policy. */
    queue: string;
}

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Validates a target; throws a TypeError that says what is wrong. */
export function checkTarget(target: QueueTarget): void {
    if (typeof target?.redis !== 'string' || !/^rediss?:\/\//.test(target.redis))
        throw new TypeError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(target?.redis)}`);
    try {
        new URL(target.redis);
    } catch {
        throw new TypeError(`--redis is not a valid URL: ${target.redis}`);
    }
    if (typeof target.queue !== 'string' || !QUEUE_NAME.test(target.queue))
        throw new TypeError(
            `--queue must be 1-100 letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${JSON.stringify(target.queue)}`,
        );
}

/** BullMQ's connection options for the URL: commands queue while the client reconnects (the work is idempotent). */
export function bullConnection(url: string) {
    return { url, maxRetriesPerRequest: null };
}

/** A BullMQ queue handle and its client, which also holds the queue's own data. Close with `queue.close()`. */
export async function openQueue<T = unknown>(target: QueueTarget): Promise<{ queue: Queue<T>; redis: RedisClient }> {
    checkTarget(target);
    const queue = new Queue<T>(target.queue, { connection: bullConnection(target.redis) });
    // connection trouble is retried by the client; an unhandled 'error' event would end the process
    queue.on('error', () => {});
    try {
        const redis = await queue.getBackend().client;
        return { queue, redis };
    } catch (error) {
        await queue.close().catch(() => {});
        throw error;
    }
}
