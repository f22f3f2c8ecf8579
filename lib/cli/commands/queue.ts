import type { Command } from 'commander';
import {
    drainQueue,
    enqueueScan,
    modelPairDigest,
    pauseQueue,
    queueResults,
    queueStatus,
    resumeQueue,
    retryFailed,
    type QueueStatus,
    type QueueTarget,
} from '../../queue/index.js';
import { defaultPolicyOf } from '../../queue/model-digest.js';
import type { Shard } from '../../scan/sources.js';
import * as flags from '../model-options.js';
import { IMAGE_PIPELINE_HELP, parseImagePipeline, parseInteger } from '../options.js';
import type { ImagePipelineMode } from '../../pipeline/types.js';

export const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

/** --redis and --queue, which every queue command and `worker` take. */
export function addQueueTargetOptions(command: Command): Command {
    return command
        .option(
            '--redis <url>',
            `Redis holding the queue (redis://[user:password@]host:port[/db]; default $LLAVAGUARD_REDIS or ${DEFAULT_REDIS})`,
        )
        .requiredOption('--queue <name>', 'queue name: one collection, model and policy');
}

export const queueTarget = (o: { redis?: string; queue: string }): QueueTarget => ({
    redis: o.redis ?? process.env.LLAVAGUARD_REDIS ?? DEFAULT_REDIS,
    queue: o.queue,
});

interface AddCliOptions extends flags.PolicyCliOptions, flags.SamplingCliOptions {
    redis?: string;
    queue: string;
    model: string;
    mmproj: string;
    imagePipeline?: ImagePipelineMode;
    chunk?: number;
    limit?: number;
    shard?: Shard;
    attempts?: number;
}

export function registerQueue(program: Command): void {
    const queue = program
        .command('queue')
        .description(
            'a scan as chunk jobs on a Redis queue (BullMQ), rated by `llavaguard worker` on any number of machines',
        );

    const add = queue
        .command('add')
        .description(
            'add the images of a source as chunk jobs; the first add pins the model and policy, adding the same images again adds nothing',
        )
        .argument(
            '<source>',
            'a folder, a manifest (.jsonl or .csv with a "path" column; http(s) URLs allowed), or - for paths on stdin; paths are read by the workers as given, so use storage every worker mounts at the same place',
        );
    addQueueTargetOptions(add);
    flags.addModelOptions(add);
    flags.addPolicyOptions(add);
    flags.addSamplingOptions(add);
    add.option('--image-pipeline <mode>', IMAGE_PIPELINE_HELP, parseImagePipeline)
        .option('--chunk <n>', 'images per job (default 32)', parseInteger('--chunk', 1, 100000))
        .option('--limit <n>', 'only the first n images (sorted order, after --shard)', parseInteger('--limit', 0))
        .option('--shard <i/n>', 'only shard i of n (0-based, by hash of the path)', flags.shardOption)
        .option(
            '--attempts <n>',
            'tries of a chunk whose images could not be read for now (network, storage), with backoff (default 5)',
            parseInteger('--attempts', 1, 100),
        )
        .action(async (source: string, o: AddCliOptions) => {
            const wantsPolicy = o.policy || o.allow?.length || o.sensitive?.length;
            const policy = wantsPolicy
                ? await flags.policyFromOptions(o, defaultPolicyOf(await modelPairDigest(o.model, o.mmproj)))
                : undefined;
            const r = await enqueueScan(source, {
                ...queueTarget(o),
                model: o.model,
                mmproj: o.mmproj,
                policy,
                seed: o.seed,
                temperature: o.temperature,
                maxTokens: o.maxTokens,
                maxRationaleChars: o.maxRationaleChars,
                imagePipeline: o.imagePipeline,
                chunk: o.chunk,
                limit: o.limit,
                shard: o.shard,
                attempts: o.attempts,
            });
            console.log(
                `queue ${o.queue}: ${r.images} images in ${r.chunks} chunks; added ${r.addedChunks} chunks (${r.addedImages} images), ${r.chunks - r.addedChunks} were already there`,
            );
            console.log(
                `pinned: model ${r.settings.model.name} (digest ${r.settings.model.digest.slice(0, 12)}), policy ${r.settings.policyHash}, pipeline ${r.settings.imagePipeline}`,
            );
        });

    const status = queue
        .command('status')
        .description('chunks by state, images recorded and left, images/s over the last minutes, ETA, per worker');
    addQueueTargetOptions(status)
        .option('--json', 'the status as one JSON object')
        .action(async (o: { redis?: string; queue: string; json?: boolean }) => {
            const s = await queueStatus(queueTarget(o));
            console.log(o.json ? JSON.stringify(s) : formatStatus(s));
        });

    const results = queue
        .command('results')
        .description(
            'write the records as `scan` writes them (one per path; same fields and path convention), for report and eval',
        );
    addQueueTargetOptions(results)
        .requiredOption('-o, --out <file>', 'JSONL file (replaced)')
        .action(async (o: { redis?: string; queue: string; out: string }) => {
            const r = await queueResults({ ...queueTarget(o), out: o.out });
            console.log(
                `${o.out}: ${r.records} records (${r.verdicts} verdicts, ${r.errors} errors, ${r.duplicates} duplicates by content)` +
                    (r.failed ? `; ${r.failed} of them from failed chunks (queue retry-failed)` : ''),
            );
            if (r.missing > 0) {
                console.error(`${r.missing} added images are not recorded yet (waiting or in progress)`);
                process.exitCode = 2;
            }
        });

    const simple = (name: string, description: string, run: (t: QueueTarget) => Promise<string>) =>
        addQueueTargetOptions(queue.command(name).description(description)).action(
            async (o: { redis?: string; queue: string }) => console.log(await run(queueTarget(o))),
        );
    simple('pause', 'workers take no new chunk (those in progress finish)', async (t) => {
        await pauseQueue(t);
        return `queue ${t.queue} paused`;
    });
    simple('resume', 'workers take chunks again', async (t) => {
        await resumeQueue(t);
        return `queue ${t.queue} resumed`;
    });
    simple('retry-failed', 'failed chunks back to waiting (their recorded images are skipped)', async (t) => {
        return `${await retryFailed(t)} failed chunks back to waiting`;
    });
    simple('drain', 'remove the chunks not started yet (adding the source again brings them back)', async (t) => {
        return `${await drainQueue(t)} waiting chunks removed`;
    });
}

function formatStatus(s: QueueStatus): string {
    const eta = s.etaSeconds === null ? '-' : formatSeconds(s.etaSeconds);
    const lines = [
        `queue ${s.queue}${s.paused ? ' (paused)' : ''}` +
            (s.settings
                ? `: ${s.settings.model} (digest ${s.settings.digest.slice(0, 12)}), policy ${s.settings.policyHash}`
                : ': nothing added yet'),
        `chunks   waiting ${s.chunks.waiting}  active ${s.chunks.active}  delayed ${s.chunks.delayed}  failed ${s.chunks.failed}  completed ${s.chunks.completed}`,
        `images   ${s.images.recorded}/${s.images.added} recorded, ${s.images.left} left | ${s.imagesPerSecond.toFixed(2)} img/s over ${s.windowSeconds} s | ETA ${eta}`,
    ];
    if (s.workers.length) {
        lines.push('workers');
        for (const w of s.workers)
            lines.push(
                `  ${w.worker.padEnd(28)} ${w.alive ? 'alive' : 'gone '}  ${String(w.images).padStart(7)} images  ${w.imagesPerSecond.toFixed(2)} img/s  x${w.concurrency}  last seen ${w.lastSeen}`,
            );
    }
    return lines.join('\n');
}

function formatSeconds(secs: number): string {
    const s = Math.round(secs);
    if (s >= 86400) return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
    if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
    return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
