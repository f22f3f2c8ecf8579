// Redis connections: BullMQ's (from the URL) and our own client for the queue's data. Both wait out a
// Redis restart: commands queue while the client reconnects instead of failing.
import { Redis } from 'ioredis';

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

/** BullMQ's connection options for the URL (BullMQ opens its own clients from them). */
export function bullConnection(url: string) {
    return { url, maxRetriesPerRequest: null };
}

/** A client for the queue's data that retries forever across reconnects (the work is idempotent). */
export function openRedis(url: string): Redis {
    const client = new Redis(url, {
        maxRetriesPerRequest: null,
        retryStrategy: (times) => Math.min(200 * times, 2000),
        lazyConnect: false,
    });
    // errors while reconnecting are reported by the reconnect itself; an unhandled 'error' would end the process
    client.on('error', () => {});
    return client;
}
