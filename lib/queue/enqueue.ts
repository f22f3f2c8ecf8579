// enqueueScan: a source (folder, manifest, stdin; http(s) URLs in manifests) added to a queue as chunk jobs,
// with the queue's settings pinned on the first add.
import type { ImagePipelineMode } from '../pipeline/types.js';
import type { Policy } from '../policy/index.js';
import { listImages, type ScanEntry, type ScanSource, type Shard } from '../scan/sources.js';
import { chunkEntries, type ChunkJobData } from './chunks.js';
import { checkTarget, openQueue, type QueueTarget } from './connection.js';
import { runScript } from './scripts.js';
import { queueKeys } from './keys.js';
import { defaultPolicyOf, modelPairDigest } from './model-digest.js';
import {
    normaliseSampling,
    pinSettings,
    QUEUE_SETTINGS_FORMAT,
    type QueueSampling,
    type QueueSettings,
} from './settings.js';

export interface EnqueueOptions extends QueueTarget, QueueSampling {
    /** The model pair every worker must load (only their headers are read here). */
    model: string;
    mmproj: string;
    /** Default: the policy the model was trained with. */
    policy?: Policy;
    /** Default 'faithful'. */
    imagePipeline?: ImagePipelineMode;
    /** Images per job. Default 32. */
    chunk?: number;
    limit?: number;
    shard?: Shard;
    stdin?: NodeJS.ReadableStream;
    /** Tries of a chunk whose images could not be read for a passing reason (network, storage). Default 5. */
    attempts?: number;
    /** First retry delay in ms, doubled each try. Default 10000. */
    backoffMs?: number;
}

export interface EnqueueResult {
    /** Images in the source. */
    images: number;
    chunks: number;
    /** Chunks (and their images) that were not in the queue before. */
    addedChunks: number;
    addedImages: number;
    settings: QueueSettings;
}

export const CHUNK_JOB = 'chunk';

/** Adds every chunk of `source` that the queue does not hold yet. */
export async function enqueueScan(
    source: ScanSource | readonly ScanEntry[],
    options: EnqueueOptions,
): Promise<EnqueueResult> {
    checkTarget(options);
    const chunkSize = options.chunk ?? 32;
    // the settings first: a bad model file fails before the listing
    const pair = await modelPairDigest(options.model, options.mmproj);
    const policy = options.policy ?? defaultPolicyOf(pair);
    const wanted: QueueSettings = {
        format: QUEUE_SETTINGS_FORMAT,
        model: {
            digest: pair.digest,
            name: pair.name,
            file: pair.file,
            bytes: pair.bytes,
            mmprojFile: pair.mmprojFile,
            mmprojBytes: pair.mmprojBytes,
        },
        imagePipeline: options.imagePipeline ?? 'faithful',
        policy: policy.toJSON(),
        policyHash: policy.hash,
        sampling: normaliseSampling(options),
        created: new Date().toISOString(),
    };
    const entries = Array.isArray(source)
        ? (source as readonly ScanEntry[])
        : await listImages(source as ScanSource, { limit: options.limit, shard: options.shard, stdin: options.stdin });
    const chunks = chunkEntries(entries, chunkSize);

    const keys = queueKeys(options.queue);
    const { queue, redis } = await openQueue<ChunkJobData>(options);
    try {
        const settings = await pinSettings(redis, keys, wanted);
        let addedChunks = 0;
        let addedImages = 0;
        for (let i = 0; i < chunks.length; i += 500) {
            const batch = chunks.slice(i, i + 500);
            const known = (await runScript(
                redis,
                'knownChunks',
                [keys.chunks],
                batch.map((c) => c.id),
            )) as number[];
            const fresh = batch.filter((_, j) => known[j] === 0);
            if (fresh.length === 0) continue;
            // jobs first, then the marks: a crash in between leaves chunks that a re-add adds again (BullMQ
            // ignores a job id it holds), never marked chunks without jobs
            await queue.addBulk(
                fresh.map((c) => ({
                    name: CHUNK_JOB,
                    data: c.data,
                    opts: {
                        jobId: c.id,
                        attempts: options.attempts ?? 5,
                        backoff: { type: 'exponential', delay: options.backoffMs ?? 10_000 },
                        removeOnComplete: { count: 1000 },
                        removeOnFail: false,
                    },
                })),
            );
            // one script: a chunk's images are counted only by the adder whose mark was new (two adds at once count once)
            const counted = (await runScript(
                redis,
                'markChunks',
                [keys.chunks, keys.counts],
                fresh.flatMap((c) => [c.id, c.data.images.length]),
            )) as [number, number];
            addedChunks += counted[0];
            addedImages += counted[1];
        }
        return { images: entries.length, chunks: chunks.length, addedChunks, addedImages, settings };
    } finally {
        await queue.close();
    }
}
