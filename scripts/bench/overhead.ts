// Our addon vs llama.cpp's own llama-mtmd-cli on the shape-faithful 0.5B model, then our library's modes, the
// floor, throughput, image pipelines and optionally each default's effect (`npm run bench -- --help`); with
// --photos only the photo-size table (scripts/bench/photos.ts).
//
// Each run is a fresh process on both sides (llama-mtmd-cli does one assessment per process; ours runs
// scripts/bench/run-ours.ts, our modes scripts/bench/run-guard.ts), so both pay the same cold-start costs after
// loading. Loading is excluded on both: ours times ctx.generate() alone (after VisionModel.load and
// createContext and decoding the PNG); llama-mtmd-cli's assessment is cut out of its timestamped log (see
// scripts/bench/mtmd-cli.ts). Sampling is greedy (temperature 0): the only setting where two different sampler
// implementations (ours: grammar applied to all logits, then the chain; common_sampler: chain first, grammar
// check, resample) provably pick the same tokens, so both sides evaluate the same prompt and generate the same
// tokens; the script checks this (prompt token counts, generated text) and says so when they differ.

import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cachedTestModel } from '../../gguf/synthetic/tiny-models.js';
import { Policy } from '../../lib/policy/index.js';
import { CPU_UBATCH } from '../../lib/runtime/VisionContext.js';
import { load1, log, median, mib } from './common.js';
import { runDefaultsTable } from './defaults-table.js';
import { cliFigures, medianFigures, oursFigures } from './figures.js';
import { type Floor, measureFloor } from './floor.js';
import { writePhotoLikePng } from './image.js';
import { type Pair, ensurePair, ensureQ8Pair, weightModels } from './lib/bench-pairs.js';
import { overheadOptions } from './lib/overhead-options.js';
import { type OverheadResults, overheadJson, overheadReport, sameTokenChecks } from './lib/overhead-report.js';
import { benchRecipe, cliArgs, oursSpec, runCli, runOurs, sideBySide } from './lib/side-by-side.js';
import { type Memory7b, memoryTable, runMemory7b } from './memory7b.js';
import { type ModeFigures, runModes } from './modes.js';
import { parseSizes, photosJson, photosReport, runPhotoBench } from './photos.js';
import { type PipelineFigures, runPipelines } from './pipelines.js';
import { type ThroughputFigures, photoSet, runThroughput } from './throughput.js';

const options = overheadOptions();
if (options) await main(options);

async function main({ opt, S, quick, throughputRuns }: NonNullable<typeof options>): Promise<void> {
    if (!existsSync(S.cli)) throw new Error(`${S.cli} is missing: build llama.cpp's tools first (npm run build:tools)`);
    const models = opt.models!;
    mkdirSync(models, { recursive: true });
    const loads: number[] = [];
    /** Raw figures of each finished part, appended to FILE.partial (--json): the tables are printed only at the end. */
    const partial: Record<string, unknown> = {};
    const checkpoint = (figures: Record<string, unknown>) => {
        Object.assign(partial, figures);
        if (opt.json) writeFileSync(`${opt.json}.partial`, `${JSON.stringify(partial, null, 2)}\n`);
    };
    /** The report on stdout, its figures in --json FILE. */
    const printed = (report: string, json: () => string) => {
        process.stdout.write(report);
        if (!opt.json) return;
        writeFileSync(opt.json, json());
        log(`wrote ${opt.json}`);
    };
    const work = mkdtempSync(path.join(os.tmpdir(), 'llavaguard-bench-'));
    try {
        const pair: Pair = quick
            ? await cachedTestModel('onevision')
            : opt.pair
              ? { model: path.join(opt.pair, 'model.gguf'), mmproj: path.join(opt.pair, 'mmproj.gguf') }
              : await ensurePair(models, 'llavaguard-v1.2-0.5b', 'q8_0');
        const image = path.join(models, 'bench-photo-384.png');
        if (!existsSync(image)) await writePhotoLikePng(image, 384, 384, 1);

        const { recipe, grammar } = await benchRecipe(S, pair, Policy.default('v1.2'));
        const prompt = recipe.text;
        // the verdict's drafts (our defaults' runs)
        const drafts = recipe.drafts(true);
        const promptFile = path.join(work, 'prompt.txt');
        const grammarFile = path.join(work, 'verdict.gbnf');
        writeFileSync(promptFile, prompt);
        writeFileSync(grammarFile, grammar);
        if (opt.photos) {
            // llama-mtmd-cli once per size by default: medians of 3 of it alone take ~50 min on 2 cores
            const cliRuns = Number(opt['cli-runs'] ?? 1);
            if (!Number.isInteger(cliRuns) || cliRuns < 0)
                throw new Error(`--cli-runs must be a whole number >= 0, got ${opt['cli-runs']}`);
            const fa = opt['flash-attention'];
            if (fa !== undefined && fa !== 'on' && fa !== 'off' && fa !== 'measured')
                throw new Error(`--flash-attention takes on, off or measured, got '${fa}'`);
            const encodeBatches = (opt['encode-batches'] ?? '')
                .split(',')
                .filter(Boolean)
                .map((v) => {
                    const n = Number(v);
                    if (!Number.isInteger(n) || n < 1)
                        throw new Error(`--encode-batches takes tile counts, got '${v}'`);
                    return n;
                });
            // the README's choice for a CPU (`convert --type q8_0`): Q8_0 text model and mmproj
            const photoPair = quick || opt.pair ? pair : await ensureQ8Pair(models, 'llavaguard-v1.2-0.5b');
            log(`model ${photoPair.model}, mmproj ${photoPair.mmproj}; photos ${opt.sizes}; threads ${S.threads}`);
            const photos = await runPhotoBench({
                S,
                pair: photoPair,
                ...(fa === 'on' || fa === 'off' ? { flashAttention: fa } : {}),
                sizes: parseSizes(opt.sizes!),
                cliRuns,
                dir: models,
                prompt,
                grammarFile,
                checkpoint,
                encodeOnly: Boolean(opt['encode-only']),
                encodeBatches,
            });
            printed(photosReport(photos), () => photosJson(photos));
            return;
        }
        const ourRun = (matched: boolean) => () =>
            runOurs(oursSpec(S, drafts, pair, image, promptFile, grammarFile, matched));
        const cliRun = (matched: boolean) => () => runCli(S, cliArgs(S, pair, image, prompt, grammarFile, matched));

        log(
            `model ${pair.model} (${mib(statSync(pair.model).size)} MiB), mmproj ${pair.mmproj} (${mib(statSync(pair.mmproj).size)} MiB)`,
        );
        log(
            `image ${image}; prompt ${prompt.length} chars; grammar rationale <= ${S.rationaleChars} chars; ${S.runs} runs a side; threads ${S.threads}`,
        );

        const memoryOnly = opt['memory-only'];
        let memory7b: Memory7b | undefined;
        if (opt['memory-7b'] || memoryOnly) {
            memory7b = await runMemory7b({
                pair: await ensurePair(models, 'llavaguard-v1.1-7b', 'q8_0'),
                work,
                grammar,
                cli: S.cli,
                oursSpec: (p, pf, gf, n) => oursSpec(S, drafts, p, image, pf, gf, true, n),
                cliArgs: (p, pr, gf, n) => cliArgs(S, p, image, pr, gf, true, n),
            });
        }
        if (memoryOnly) {
            process.stdout.write(
                `threads ${S.threads}, load average ${load1().toFixed(1)}\n\n${memory7b ? memoryTable(memory7b, S.ctx) : ''}\n`,
            );
            if (opt.json && memory7b) {
                writeFileSync(
                    opt.json,
                    `${JSON.stringify({ date: new Date().toISOString(), threads: S.threads, memory7b: { ours: memory7b.ours, cli: { ...memory7b.cli, args: undefined } } }, null, 2)}\n`,
                );
            }
            return;
        }

        const matched = await sideBySide(S, loads, 'same settings', ourRun(true), cliRun(true));
        const defaults = opt['no-defaults']
            ? undefined
            : await sideBySide(S, loads, 'own defaults', ourRun(false), cliRun(false));

        const checks = sameTokenChecks(matched);
        const ours = medianFigures(matched.ours.map((r) => oursFigures(r.runs[0]!, r)));
        const cli = medianFigures(matched.cli.map(cliFigures));
        const fullVsMtmdCli = ours.wallMs / cli.wallMs;
        const od = defaults && medianFigures(defaults.ours.map((r) => oursFigures(r.runs[0]!, r)));
        const cd = defaults && medianFigures(defaults.cli.map(cliFigures));
        const defaultsVsMtmdCliDefaults = od && cd ? od.wallMs / cd.wallMs : NaN;
        // jump-forward (our default): forward passes after the prompt per generated token
        const forwardPassesPerGeneratedToken = defaults
            ? median(defaults.ours.map((r) => r.runs[0]!.forwardPasses.decode / r.runs[0]!.tokens.length))
            : NaN;

        // ---- our modes, the floor, throughput, defaults
        let modes: Record<string, ModeFigures> | undefined;
        let floor: Floor | undefined;
        if (!opt['no-modes']) {
            log('modes: full / rationale: false / score through LlavaGuard ...');
            modes = await runModes(S, pair, image);
            log('floor: llama-bench prefill ...');
            floor = await measureFloor(
                S,
                pair.model,
                Math.round(ours.promptTokens),
                Math.min(ours.imageMs, cli.imageMs),
                CPU_UBATCH,
            );
            checkpoint({ ours, cli, fullVsMtmdCli, defaultsVsMtmdCliDefaults, modes, floor });
        }
        let throughput: ThroughputFigures[] | undefined;
        if (!opt['no-throughput']) {
            log(`throughput: ${opt.images} images ...`);
            const images = await photoSet(models, Number(opt.images));
            throughput = await runThroughput(
                S,
                pair,
                images,
                (img) => cliArgs(S, pair, img, prompt, grammarFile, true),
                throughputRuns,
            );
            checkpoint({ throughput });
        }
        let pipelines: PipelineFigures[] | undefined;
        const pipelineImage = path.join(models, 'bench-photo-768x576.png');
        if (!opt['no-pipelines']) {
            log('image pipelines: faithful / fast / llama.cpp ...');
            if (!existsSync(pipelineImage)) await writePhotoLikePng(pipelineImage, 768, 576, 3);
            pipelines = await runPipelines(S, pair, pipelineImage);
            checkpoint({ pipelines });
        }
        let defaultsTable: { text: string; json: unknown } | undefined;
        if (opt['defaults-table']) {
            const largeImage = path.join(models, 'bench-photo-768.png');
            if (!existsSync(largeImage)) await writePhotoLikePng(largeImage, 768, 768, 1);
            defaultsTable = await runDefaultsTable(S, {
                pair,
                image,
                largeImage,
                depth: Math.round(ours.promptTokens),
                imageTokens: checks.oFirst[0]!.imageTokens,
                ...(quick ? { p: 64, n: 8, r: 2 } : { p: 512, n: 32, r: 3 }),
                weightModels: () =>
                    weightModels(pair, { modelsDir: models, quick, given: Boolean(opt.pair), threads: S.threads }),
            });
        }

        const results: OverheadResults = {
            S,
            quick,
            layoutTokens: opt['layout-tokens']!,
            images: Number(opt.images),
            throughputRuns,
            pair,
            image,
            loads,
            matched,
            defaults,
            ours,
            cli,
            od,
            cd,
            fullVsMtmdCli,
            defaultsVsMtmdCliDefaults,
            forwardPassesPerGeneratedToken,
            checks,
            modes,
            floor,
            throughput,
            pipelines,
            memory7b,
            defaultsTable,
        };
        printed(overheadReport(results), () => overheadJson(results));
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}
