import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { LlavaGuard } from '../../guard/LlavaGuard.js';
import { exportCsv } from '../../scan/csv-export.js';
import { formatSummary } from '../../scan/summary-table.js';
import { scanImages, type ScanSummary } from '../../scan/scan.js';
import { listImages, type Shard } from '../../scan/sources.js';
import * as flags from '../model-options.js';
import { parseInteger } from '../options.js';

interface ScanCliOptions extends flags.ModelCliOptions, flags.PolicyCliOptions, flags.SamplingCliOptions {
    out: string;
    csv?: string;
    limit?: number;
    shard?: Shard;
    prefetch?: number;
}

export function registerScan(program: Command): void {
    const command = program
        .command('scan')
        .description(
            'rate every image of a folder, manifest or list into a resumable JSONL file (one record per image)',
        )
        .argument(
            '<source>',
            'a folder (images found by content, recursively), a manifest (.jsonl or .csv with a "path" column), or - for paths on stdin',
        );
    flags
        .addModelOptions(command)
        .requiredOption(
            '-o, --out <file>',
            'JSONL records, appended; images already there (same content, model, policy) are skipped',
        )
        .option('--csv <file>', 'also write a CSV of the records (one row per path) when the scan ends');
    flags
        .addPolicyOptions(command)
        .option('--limit <n>', 'only the first n images (sorted order, after --shard)', parseInteger('--limit', 0))
        .option(
            '--shard <i/n>',
            'only shard i of n (0-based, by hash of the path): n processes split a collection without overlap',
            flags.shardOption,
        );
    flags.addSamplingOptions(command);
    flags
        .addRuntimeOptions(command)
        .option(
            '--prefetch <n>',
            'images read and decoded ahead of inference (default 4)',
            parseInteger('--prefetch', 1, 64),
        )
        .action(async (source: string, options: ScanCliOptions) => {
            // list first: a bad source fails before the model loads, and the bar knows its total
            const entries = await listImages(source, { limit: options.limit, shard: options.shard });
            const guard = await LlavaGuard.load(flags.guardLoadOptions(options));
            const controller = new AbortController();
            const stopListening = flags.abortOnFirstInterrupt(controller, 'stopping after the current image');
            const bar = process.stdout.isTTY ? progressBar() : undefined;
            try {
                const policy = await flags.policyFromOptions(options, guard.defaultPolicy);
                if (guard.modelInfo.randomWeights) console.error(flags.RANDOM_WEIGHTS_NOTE);
                bar?.start(entries.length);
                const scan = scanImages(guard, entries, {
                    policy,
                    seed: options.seed,
                    temperature: options.temperature,
                    maxTokens: options.maxTokens,
                    maxRationaleChars: options.maxRationaleChars,
                    prefetch: options.prefetch,
                    output: options.out,
                    signal: controller.signal,
                    onProgress: (s) => bar?.update(s),
                });
                let step = await scan.next();
                while (!step.done) step = await scan.next();
                bar?.stop();
                console.log(formatSummary(step.value, options.out));
                if (options.csv) console.log(`csv: ${options.csv} (${await exportCsv(options.out, options.csv)} rows)`);
                if (step.value.aborted) process.exitCode = 130;
            } finally {
                bar?.stop();
                stopListening();
                await guard.close();
            }
        });
}

/** images/s and ETA over this run's work only: resumed images are skipped in no time and would skew both. */
function progressBar() {
    const bar = new cliProgress.SingleBar(
        {
            format: '{bar} {value}/{total} | {rate} img/s | ETA {left} | safe {safe}  unsafe {unsafe}  errors {errors}',
            hideCursor: true,
            clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
    );
    const started = performance.now();
    return {
        start: (total: number) => bar.start(total, 0, { rate: '-', left: '-', safe: 0, unsafe: 0, errors: 0 }),
        update(s: Readonly<ScanSummary>) {
            const secs = (performance.now() - started) / 1000;
            const worked = s.done - s.skipped;
            const rate = worked / Math.max(secs, 1e-3);
            const left = worked > 0 ? formatSeconds((s.total - s.done) / rate) : '-';
            bar.update(s.done, {
                rate: worked > 0 ? rate.toFixed(2) : '-',
                left,
                safe: s.safe,
                unsafe: s.unsafe,
                errors: s.errors,
            });
        },
        stop: () => bar.stop(),
    };
}

function formatSeconds(secs: number): string {
    if (!Number.isFinite(secs)) return '-';
    const s = Math.round(secs);
    return s >= 3600
        ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
        : s >= 60
          ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
          : `${s}s`;
}
