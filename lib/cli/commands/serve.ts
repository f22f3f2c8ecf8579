import type { Command } from 'commander';
import { LlavaGuard } from '../../guard/LlavaGuard.js';
import * as flags from '../model-options.js';
import { parseInteger } from '../options.js';

interface ServeCliOptions extends flags.ModelCliOptions, flags.PolicyCliOptions {
    host: string;
    port: number;
    apiKey?: string;
    parallel: number;
    contextSize?: number;
    queueLimit: number;
    timeoutMs: number;
    allowRemoteImages?: boolean;
    maxImageBytes?: number;
    maxImagePixels?: number;
    log: boolean;
}

export function registerServe(program: Command): void {
    const command = program
        .command('serve')
        .description("an HTTP server speaking OpenAI's /v1/moderations and /v1/chat/completions (loopback by default)");
    flags.addModelOptions(command);
    flags.addPolicyOptions(command);
    flags
        .addRuntimeOptions(command)
        .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
        .option('--port <n>', 'port (0: any free one)', parseInteger('--port', 0, 65535), 8080)
        .option('--api-key <key>', 'require "Authorization: Bearer <key>" (default: LLAVAGUARD_API_KEY, else none)')
        .option('--parallel <n>', 'sequence slots decoded together', parseInteger('--parallel', 1, 64), 4)
        .option(
            '--context-size <n>',
            "tokens of context per slot (default: the image pipeline's largest image + 2048)",
            parseInteger('--context-size', 256, 1048576),
        )
        .option(
            '--queue-limit <n>',
            'assessments waiting beyond the slots before 429',
            parseInteger('--queue-limit', 0, 100000),
            64,
        )
        .option(
            '--timeout-ms <n>',
            'longest time a request may take (0: none)',
            parseInteger('--timeout-ms', 0, 86400000),
            600000,
        )
        .option('--allow-remote-images', 'also fetch http(s) image URLs (public addresses only)')
        .option('--max-image-bytes <n>', 'largest encoded image', parseInteger('--max-image-bytes', 1))
        .option('--max-image-pixels <n>', 'largest image in pixels', parseInteger('--max-image-pixels', 1))
        .option('--no-log', 'no request logs (JSON lines on stdout by default)')
        .action(async (options: ServeCliOptions) => {
            // Loaded here, not at the CLI's start: the other commands need no HTTP server.
            const { createServer } = await import('../../server/index.js');
            const guard = await LlavaGuard.load({
                ...flags.guardLoadOptions(options),
                sequences: options.parallel,
                ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
            });
            const policy = await flags.policyFromOptions(options, guard.defaultPolicy);
            if (guard.modelInfo.randomWeights) console.error(flags.RANDOM_WEIGHTS_NOTE);
            const app = await createServer(guard, {
                apiKey: options.apiKey ?? process.env.LLAVAGUARD_API_KEY,
                policy,
                queueLimit: options.queueLimit,
                timeoutMs: options.timeoutMs,
                allowRemoteImages: options.allowRemoteImages,
                maxImageBytes: options.maxImageBytes,
                maxImagePixels: options.maxImagePixels,
                logger: options.log,
            });
            let stopping = false;
            const stop = async (signal: string) => {
                if (stopping) return;
                stopping = true;
                app.log.info({ signal }, 'stopping: no new requests, finishing the running ones');
                await app.close();
                await guard.close();
                process.exit(0);
            };
            process.once('SIGTERM', () => void stop('SIGTERM'));
            process.once('SIGINT', () => void stop('SIGINT'));
            const address = await app.listen({ host: options.host, port: options.port });
            // The one line a script waits for (also when logging is off).
            console.error(`llavaguard: serving ${guard.modelInfo.name} on ${address} (${options.parallel} slots)`);
        });
}
