import type { Command } from 'commander';
import { runWorker } from '../../queue/index.js';
import * as flags from '../model-options.js';
import { FLASH_ATTENTION_HELP, parseFlashAttention, parseInteger } from '../options.js';
import { addQueueTargetOptions, queueTarget } from './queue.js';

interface WorkerCliOptions extends Omit<flags.ModelCliOptions, 'imagePipeline'> {
    redis?: string;
    queue: string;
    concurrency?: number;
    name?: string;
    untilEmpty?: boolean;
    lockDuration?: number;
    stalledInterval?: number;
    quiet?: boolean;
}

export function registerWorker(program: Command): void {
    const command = program
        .command('worker')
        .description(
            "rate a queue's chunks (see `llavaguard queue`) with this machine's model until stopped; SIGTERM or Ctrl-C finishes the current images and hands the rest back",
        );
    addQueueTargetOptions(command);
    flags.addModelOptions(command);
    command
        .option(
            '-c, --concurrency <n>',
            "chunks in progress at once = the model's parallel sequence slots (default 1)",
            parseInteger('--concurrency', 1, 64),
        )
        .option('--name <name>', 'how records and `queue status` name this worker (default host:pid)')
        .option('--until-empty', 'exit once the queue holds no waiting, delayed or active chunk');
    flags
        .addDeviceOptions(command)
        .option('--flash-attention <mode>', FLASH_ATTENTION_HELP, parseFlashAttention)
        .option(
            '--lock-duration <ms>',
            "lock on a chunk, renewed while it runs; a dead worker's chunk is taken over after it (default 30000)",
            parseInteger('--lock-duration', 100, 3_600_000),
        )
        .option(
            '--stalled-interval <ms>',
            'how often to look for chunks of dead workers (default 30000)',
            parseInteger('--stalled-interval', 100, 3_600_000),
        )
        .option('-q, --quiet', 'no line per chunk')
        .action(async (o: WorkerCliOptions) => {
            const controller = new AbortController();
            const stop = (signal: string) => () => {
                if (controller.signal.aborted) {
                    process.stderr.write(`worker: ${signal} again, quitting at once\n`);
                    process.exit(130);
                }
                process.stderr.write(`worker: ${signal}: finishing the current images, handing the rest back\n`);
                controller.abort();
            };
            const onTerm = stop('SIGTERM');
            const onInt = stop('SIGINT');
            process.on('SIGTERM', onTerm);
            process.on('SIGINT', onInt);
            try {
                const summary = await runWorker({
                    ...queueTarget(o),
                    model: o.model,
                    mmproj: o.mmproj,
                    concurrency: o.concurrency,
                    name: o.name,
                    untilEmpty: o.untilEmpty,
                    threads: o.threads,
                    gpu: o.gpu,
                    gpuLayers: o.gpuLayers,
                    flashAttention: o.flashAttention,
                    mmprojFlashAttention: o.flashAttention,
                    lockDuration: o.lockDuration,
                    stalledInterval: o.stalledInterval,
                    signal: controller.signal,
                    onReady: ({ worker, settings }) =>
                        process.stderr.write(
                            `worker ${worker}: ready on queue ${o.queue} (${settings.model.name}, policy ${settings.policyHash})\n`,
                        ),
                    onChunk: ({ id, result }) => {
                        if (!o.quiet)
                            process.stderr.write(
                                `chunk ${id}: ${result.recorded}/${result.images} images recorded, ${result.assessed} assessed\n`,
                            );
                    },
                    onWarning: (message) => process.stderr.write(`worker: ${message}\n`),
                });
                console.log(
                    `worker ${summary.worker}: ${summary.images} images recorded (${summary.assessed} assessed, ${summary.reused} already rated, ${summary.errors} errors) in ${summary.chunks} chunks, ${summary.handedBack} handed back, ${(summary.elapsedMs / 1000).toFixed(1)} s`,
                );
            } finally {
                process.off('SIGTERM', onTerm);
                process.off('SIGINT', onInt);
            }
        });
}
