// Pause, resume, retry the failed chunks, drain what has not started.
import type { Queue, RedisClient } from 'bullmq';
import { openQueue, type QueueTarget } from './connection.js';
import { queueKeys } from './keys.js';
import { runScript } from './scripts.js';

async function withQueue<T>(target: QueueTarget, fn: (queue: Queue, redis: RedisClient) => Promise<T>): Promise<T> {
    const { queue, redis } = await openQueue(target);
    try {
        return await fn(queue, redis);
    } finally {
        await queue.close();
    }
}

/** Workers take no new chunk until {@link resumeQueue}; chunks in progress finish. */
export const pauseQueue = (target: QueueTarget) => withQueue(target, (q) => q.pause());

export const resumeQueue = (target: QueueTarget) => withQueue(target, (q) => q.resume());

/** Failed chunks back to waiting (their recorded images are skipped). Returns how many. */
export const retryFailed = (target: QueueTarget) =>
    withQueue(target, async (q) => {
        const failed = await q.getJobCountByTypes('failed');
        await q.retryJobs({ state: 'failed' });
        return failed;
    });

/**
 * Removes the chunks that are waiting or delayed (in progress ones finish); adding the source again adds
 * them back. Returns how many were removed.
 */
export const drainQueue = (target: QueueTarget) =>
    withQueue(target, async (q, redis) => {
        const jobs = await q.getJobs(['waiting', 'delayed', 'prioritized']);
        const ids = jobs.map((j) => j.id).filter((id): id is string => typeof id === 'string');
        await q.drain(true);
        if (ids.length > 0) {
            const keys = queueKeys(target.queue);
            // forget their marks and their images, so that a later add brings them back
            const images = jobs.reduce((n, j) => n + ((j.data as { images?: unknown[] })?.images?.length ?? 0), 0);
            await runScript(redis, 'forgetChunks', [keys.chunks, keys.counts], [images, ...ids]);
        }
        return ids.length;
    });
