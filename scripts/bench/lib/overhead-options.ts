// The command line of scripts/bench/overhead.ts (`npm run bench`): its options, their defaults (smaller ones
// for --quick) and --help.

import path from 'node:path';
import { parseArgs } from 'node:util';

import { type BenchSettings, repoRoot } from '../common.js';
import { DEFAULT_PHOTO_SIZES } from '../photos.js';

export const OVERHEAD_USAGE = `Our addon vs llama.cpp's own llama-mtmd-cli (built from the same tree, build/bin), on the shape-faithful
0.5B model: one full LlavaGuard assessment each with the same model / image / prompt tokens / grammar /
sampling / threads / batch sizes, and each with its own defaults; then our library's modes (score,
rationale: false) against the floor llama-bench implies, images/s for 8 images, and optionally the
measured effect of each default.

  npm run bench -- [options]
  (= TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import scripts/bench/overhead.ts [options])

Options:
  --models DIR          where the shaped models live / are made (default /tmp/llavaguard-bench-models)
  --runs N              runs per side, per mode and per photo size, interleaved ours, cli, ours, cli, ...
                        (default 3)
  --threads N           threads for both sides, text model and vision encoder (default 2)
  --rationale-chars N   grammar bound on the rationale, so a random-weight model ends its verdict (default 160)
  --max-tokens N        -n / maxTokens; the grammar normally ends the verdict first (default 512)
  --seed N              sampling seed for both (default 42)
  --layout-tokens K     the verdict grammar both sides get: canonical (default, as LlavaGuard builds it: the
                        layout in the model's own tokens) or any (characters only, every spelling allowed)
  --images N            images for the throughput table (default 8)
  --throughput-runs N   rounds of the throughput table (default: --runs)
  --no-defaults         skip the runs with each side's own defaults
  --no-modes            skip our score / rationale: false / full modes (and the floor)
  --no-throughput       skip the images/s table
  --no-pipelines        skip the image-pipeline table (faithful / fast / llama.cpp on a 768x576 photo)
  --defaults-table      also measure the effect of each default (threads, ubatch, flash attention, KV cache
                        type, weight type, GPU layers, vision flash attention / threads, image-token bound)
  --json FILE           write the headline numbers as JSON
  --memory-only         only the --memory-7b measurement (skips the 0.5B runs)
  --photos              only the photo table (scripts/bench/photos.ts): one verdict per photo size through our
                        faithful pipeline, against its floor (the encoder's time for one tile x the plan's tiles +
                        llama-bench prefill of our prompt tokens + decode at that depth) and llama-mtmd-cli with
                        its own tiling; encode, prefill and decode apart; --json FILE gives photoVsFloor
  --sizes WxH,...       the photo sizes (default ${DEFAULT_PHOTO_SIZES})
  --encode-only         with --photos: only the encoder's one-tile rate and the batched vs tile-by-tile
                        encode of one photo's tiles (batchedEncodeVsTiles), no verdicts (minutes)
  --encode-batches N,.. with --encode-only: also time the same tiles in graphs of N tiles (the last graph takes
                        the rest), each round starting one path later
  --cli-runs N          llama-mtmd-cli runs per photo size (default 1; 0: none). Its own tiling of a 4032x3024
                        photo is 31 tiles and ~22.6k prompt tokens on the 0.5B (~14-16 min a run on 2 cores)
  --flash-attention M   with --photos: measured (default: the library's own choice per part, which the floor
                        then uses too), on or off (both parts of ours and the floor); llama-mtmd-cli runs -fa off
  --pair DIR            use DIR/model.gguf + DIR/mmproj.gguf instead of the shaped 0.5B pair (Q8_0 text + F16
                        mmproj; for --photos Q8_0 + Q8_0 mmproj, what 'convert --type q8_0' writes)
  --quick               smoke run on the tiny onevision test model (gguf/synthetic/tiny-models.ts): 1 run,
                        1 thread, a short rationale, every section (the defaults table too); figures are meaningless
  --memory-7b           also write the LLaVA-1.5-7B-shaped pair (Q8_0 text + F16 mmproj, 7.3 GiB, minutes) and
                        report the peak memory of one short assessment on each side
  --help                this text
`;

function parse(args: string[]) {
    return parseArgs({
        args,
        options: {
            models: { type: 'string', default: '/tmp/llavaguard-bench-models' },
            runs: { type: 'string' },
            threads: { type: 'string' },
            'rationale-chars': { type: 'string' },
            'max-tokens': { type: 'string' },
            seed: { type: 'string', default: '42' },
            'layout-tokens': { type: 'string', default: 'canonical' },
            images: { type: 'string', default: '8' },
            'throughput-runs': { type: 'string' },
            'no-defaults': { type: 'boolean', default: false },
            'no-modes': { type: 'boolean', default: false },
            'no-throughput': { type: 'boolean', default: false },
            'no-pipelines': { type: 'boolean', default: false },
            'defaults-table': { type: 'boolean', default: false },
            json: { type: 'string' },
            'memory-7b': { type: 'boolean', default: false },
            'memory-only': { type: 'boolean', default: false },
            photos: { type: 'boolean', default: false },
            sizes: { type: 'string', default: DEFAULT_PHOTO_SIZES },
            'cli-runs': { type: 'string' },
            'flash-attention': { type: 'string' },
            'encode-only': { type: 'boolean', default: false },
            'encode-batches': { type: 'string' },
            pair: { type: 'string' },
            quick: { type: 'boolean', default: false },
            help: { type: 'boolean', default: false },
        },
    }).values;
}

export type OverheadArgs = ReturnType<typeof parse>;

export interface OverheadOptions {
    opt: OverheadArgs;
    S: BenchSettings;
    quick: boolean;
    throughputRuns: number;
}

function layoutTokensOption(value: string): 'canonical' | 'any' {
    if (value !== 'canonical' && value !== 'any')
        throw new Error(`--layout-tokens must be canonical or any, got ${value}`);
    return value;
}

/** The parsed command line; undefined after printing the usage for --help. */
export function overheadOptions(args = process.argv.slice(2)): OverheadOptions | undefined {
    const opt = parse(args);
    if (opt.help) {
        process.stdout.write(OVERHEAD_USAGE);
        return undefined;
    }
    const quick = opt.quick;
    const S: BenchSettings = {
        runs: Number(opt.runs ?? (quick ? 1 : 3)),
        threads: Number(opt.threads ?? (quick ? 1 : 2)),
        maxTokens: Number(opt['max-tokens'] ?? (quick ? 128 : 512)),
        seed: Number(opt.seed),
        rationaleChars: Number(opt['rationale-chars'] ?? (quick ? 40 : 160)),
        layoutTokens: layoutTokensOption(opt['layout-tokens']!),
        ctx: 4096,
        batch: 2048,
        ubatch: 512,
        topK: 40,
        topP: 0.95,
        temp: 0,
        cli: path.join(repoRoot, 'build/bin/llama-mtmd-cli'),
        llamaBench: path.join(repoRoot, 'build/bin/llama-bench'),
    };
    return { opt, S, quick, throughputRuns: Number(opt['throughput-runs'] ?? S.runs) };
}
