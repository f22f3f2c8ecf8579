// Pause, resume, retry the failed chunks, drain what has not started.
import { Queue } from 'bullmq';
import { bullConnection, checkTarget, openRedis, type QueueTarget } from './connection.js';
import { queueKeys } from './keys.js';

async function withQueue<T>(target: QueueTarget, fn: (queue: Queue) => Promise<T>): Promise<T> {
    checkTarget(target);
    const queue = new Queue(target.queue, { connection: bullConnection(target.redis) });
    queue.on('error', () => {});
    try {
        return await fn(queue);
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
    withQueue(target, async (q) => {
        const jobs = await q.getJobs(['waiting', 'delayed', 'prioritized']);
        const ids = jobs.map((j) => j.id).filter((id): id is string => typeof id === 'string');
        await q.drain(true);
        if (ids.length > 0) {
            const redis = openRedis(target.redis);
            try {
                const keys = queueKeys(target.queue);
                // forget their marks and their images, so that a later add brings them back
                const images = jobs.reduce((n, j) => n + ((j.data as { images?: unknown[] })?.images?.length ?? 0), 0);
                await redis
                    .multi()
                    .srem(keys.chunks, ...ids)
                    .hincrby(keys.counts, 'images', -images)
                    .exec();
            } finally {
                redis.disconnect();
            }
        }
        return ids.length;
    });
