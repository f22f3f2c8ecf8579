// Our addon vs llama.cpp's own llama-mtmd-cli (built from the same tree, build/bin), on the shape-faithful
// 0.5B model: one full LlavaGuard assessment each with the same model / image / prompt tokens / grammar /
// sampling / threads / batch sizes, and each with its own defaults; then our library's modes (score,
// rationale: false) against the floor llama-bench implies, images/s for 8 images, and optionally the
// measured effect of each default.
//
//   npm run bench -- [options]
//   (= TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import scripts/bench/overhead.ts [options])
//
// Options:
//   --models DIR          where the shaped models live / are made (default /tmp/llavaguard-bench-models)
//   --runs N              runs per side and per mode, interleaved ours, cli, ours, cli, ... (default 3)
//   --threads N           threads for both sides, text model and vision encoder (default 2)
//   --rationale-chars N   grammar bound on the rationale, so a random-weight model ends its verdict (default 160)
//   --max-tokens N        -n / maxTokens; the grammar normally ends the verdict first (default 512)
//   --seed N              sampling seed for both (default 42)
//   --layout-tokens K     the verdict grammar both sides get: canonical (default, as LlavaGuard builds it: the
//                         layout in the model's own tokens) or any (characters only, every spelling allowed)
//   --images N            images for the throughput table (default 8)
//   --throughput-runs N   rounds of the throughput table (default: --runs)
//   --no-defaults         skip the runs with each side's own defaults
//   --no-modes            skip our score / rationale: false / full modes (and the floor)
//   --no-throughput       skip the images/s table
//   --no-pipelines        skip the image-pipeline table (faithful / fast / llama.cpp on a 768x576 photo)
//   --defaults-table      also measure the effect of each default (threads, ubatch, flash attention, KV cache
//                         type, weight type, GPU layers, vision flash attention / threads, image-token bound)
//   --json FILE           write the headline numbers as JSON
//   --memory-only         only the --memory-7b measurement (skips the 0.5B runs)
//   --pair DIR            use DIR/model.gguf + DIR/mmproj.gguf instead of the shaped 0.5B pair
//   --quick               smoke run on the tiny onevision test model (gguf/tiny-models.ts): 1 run, 1 thread,
//                         a short rationale, every section (the defaults table too); figures are meaningless
//   --memory-7b           also write the LLaVA-1.5-7B-shaped pair (Q8_0 text + F16 mmproj, 7.3 GiB, minutes) and
//                         report the peak memory of one short assessment on each side
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
import { parseArgs } from 'node:util';

import { makeShapedModel, type ShapedModelId, type ShapedWeightType } from '../../gguf/shapes.js';
import { cachedTestModel } from '../../gguf/tiny-models.js';
import { ONEVISION_QWEN, MTMD_MEDIA_MARKER } from '../../lib/chat/index.js';
import { CPU_UBATCH } from '../../lib/runtime/VisionContext.js';
import { Policy } from '../../lib/policy/index.js';
import { VisionModel } from '../../lib/runtime/VisionModel.js';
import { GuardRecipes, type PolicyRecipe } from '../../lib/guard/recipe.js';
import { quantizeModel } from '../../lib/tools/quantize.js';
import { f0, f3, load1, log, median, mib, repoRoot, runChild, type BenchSettings } from './common.js';
import { runDefaultsTable, type WeightModel } from './defaults-table.js';
import { cliFigures, medianFigures, oursFigures, table, type OursResult } from './figures.js';
import { floorTable, measureFloor, type Floor } from './floor.js';
import { writePhotoLikePng } from './image.js';
import { memoryTable, runMemory7b, type Memory7b } from './memory7b.js';
import { modesTable, runModes, type ModeFigures } from './modes.js';
import { runMtmdCliComplete, type MtmdCliRun } from './mtmd-cli.js';
import type { OursSpec } from './run-ours.js';
import { pipelinesTable, runPipelines, type PipelineFigures } from './pipelines.js';
import { photoSet, runThroughput, throughputTable, type ThroughputFigures } from './throughput.js';

const { values: opt } = parseArgs({
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
        pair: { type: 'string' },
        quick: { type: 'boolean', default: false },
    },
});

const QUICK = opt.quick;
const S: BenchSettings = {
    runs: Number(opt.runs ?? (QUICK ? 1 : 3)),
    threads: Number(opt.threads ?? (QUICK ? 1 : 2)),
    maxTokens: Number(opt['max-tokens'] ?? (QUICK ? 128 : 512)),
    seed: Number(opt.seed),
    rationaleChars: Number(opt['rationale-chars'] ?? (QUICK ? 40 : 160)),
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
function layoutTokensOption(value: string): 'canonical' | 'any' {
    if (value !== 'canonical' && value !== 'any')
        throw new Error(`--layout-tokens must be canonical or any, got ${value}`);
    return value;
}
const THROUGHPUT_RUNS = Number(opt['throughput-runs'] ?? S.runs);
/** Makes mtmd-cli's chat-template step a no-op, so it tokenizes exactly our rendered prompt. */
const PASSTHROUGH_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}";
const loads: number[] = [];
type Pair = { model: string; mmproj: string };

/** Raw figures of each finished part, appended to FILE.partial (--json): the tables are printed only at the end. */
const partial: Record<string, unknown> = {};
function checkpoint(figures: Record<string, unknown>): void {
    Object.assign(partial, figures);
    if (opt.json) writeFileSync(`${opt.json}.partial`, `${JSON.stringify(partial, null, 2)}\n`);
}

async function ensurePair(shapes: ShapedModelId, weightType: ShapedWeightType): Promise<Pair> {
    const dir = path.join(opt.models!, `${shapes}-${weightType}`);
    const model = path.join(dir, 'model.gguf');
    const mmproj = path.join(dir, 'mmproj.gguf');
    if (existsSync(model) && existsSync(mmproj)) return { model, mmproj };
    log(`writing the ${shapes} pair (${weightType} text, f16 mmproj) to ${dir} ...`);
    let last = 0;
    const r = await makeShapedModel({
        shapes,
        outDir: dir,
        weightType,
        mmprojWeightType: 'f16',
        seed: 0,
        onProgress: (p) => {
            const now = performance.now();
            if (now - last > 15000) {
                last = now;
                log(`  ${p.file}: ${((100 * p.bytesWritten) / p.totalBytes).toFixed(0)}%`);
            }
        },
    });
    log(`  done in ${(r.ms / 1000).toFixed(0)} s: model ${mib(r.modelBytes)} MiB, mmproj ${mib(r.mmprojBytes)} MiB`);
    return { model, mmproj };
}

/** The text model by weight type for the defaults table: F16 (reference) first. */
async function weightModels(pair: Pair): Promise<WeightModel[]> {
    let list: Array<{ type: string } & Pair>;
    if (QUICK || opt.pair) {
        // tiny test models: F16 and Q8_0 written by gguf/tiny-models.ts (no BF16 writer there)
        const f16 = QUICK ? await cachedTestModel('onevision', { weightType: 'f16' }) : pair;
        list = [{ type: QUICK ? 'F16' : `given (${path.basename(pair.model)})`, ...f16 }];
        if (QUICK) list.push({ type: 'Q8_0', ...(await cachedTestModel('onevision', { weightType: 'q8_0' })) });
    } else {
        const f16 = await ensurePair('llavaguard-v1.2-0.5b', 'f16');
        const bf16 = await ensurePair('llavaguard-v1.2-0.5b', 'bf16');
        list = [
            { type: 'F16', ...f16 },
            { type: 'BF16', model: bf16.model, mmproj: f16.mmproj },
            { type: 'Q8_0', model: pair.model, mmproj: f16.mmproj },
        ];
    }
    const q4 = path.join(path.dirname(list[0]!.model), 'model-q4_k_m.gguf');
    if (!existsSync(q4)) {
        log(`quantizing ${list[0]!.model} to Q4_K_M (lib/tools/quantize.ts) ...`);
        await quantizeModel(list[0]!.model, q4, 'q4_k_m', S.threads);
    }
    list.push({ type: 'Q4_K_M', model: q4, mmproj: list[0]!.mmproj });
    return list;
}

function cliArgs(
    p: Pair,
    image: string,
    prompt: string,
    grammarFile: string,
    matched: boolean,
    nPredict = S.maxTokens,
): string[] {
    const a = [
        '-m',
        p.model,
        '--mmproj',
        p.mmproj,
        '--image',
        image,
        '-p',
        prompt,
        '--no-escape',
        '--jinja',
        '--chat-template',
        PASSTHROUGH_TEMPLATE,
        '--grammar-file',
        grammarFile,
        '-n',
        String(nPredict),
        '--temp',
        String(S.temp),
        '--top-k',
        String(S.topK),
        '--top-p',
        String(S.topP),
        '--min-p',
        '0',
        '--seed',
        String(S.seed),
        '--log-timestamps',
        '--log-prefix',
        '-lv',
        '4',
    ];
    if (matched) {
        a.push(
            '-t',
            String(S.threads),
            '-tb',
            String(S.threads),
            '-fa',
            'off',
            '-c',
            String(S.ctx),
            '-b',
            String(S.batch),
            '-ub',
            String(S.ubatch),
            // our addon does no warm-up run at load: leave it out here too, so both start equally cold
            '--no-warmup',
        );
    }
    return a;
}

function oursSpec(
    p: Pair,
    image: string,
    promptFile: string,
    grammarFile: string,
    matched: boolean,
    maxTokens = S.maxTokens,
): OursSpec {
    const base = {
        model: p.model,
        mmproj: p.mmproj,
        image,
        promptFile,
        grammarFile,
        maxTokens,
        temperature: S.temp,
        topK: S.topK,
        topP: S.topP,
        seed: S.seed,
    };
    // our defaults, as LlavaGuard runs them: jump-forward with the verdict's drafts
    if (!matched) return { ...base, drafts: [...drafts] };
    // jump-forward off: one forward pass per generated token, as llama-mtmd-cli does
    return {
        ...base,
        threads: S.threads,
        contextSize: S.ctx,
        batchSize: S.batch,
        ubatchSize: S.ubatch,
        flashAttention: 'off',
        jumpForward: false,
    };
}

/** The verdict's drafts (our defaults' runs); set with the grammar in main. */
let drafts: readonly string[] = [];

/**
 * The prompt, grammar and drafts both sides decode with, as LlavaGuard builds them (the grammar in the model's
 * canonical layout tokens unless --layout-tokens any).
 */
async function benchRecipe(pair: Pair, policy: Policy): Promise<{ recipe: PolicyRecipe; grammar: string }> {
    const vocab = await VisionModel.load({ model: pair.model, vocabOnly: true });
    try {
        const recipe = new GuardRecipes({
            tokenizer: vocab,
            format: ONEVISION_QWEN,
            imageMarker: MTMD_MEDIA_MARKER,
        }).for(policy);
        const grammar = recipe.grammar({ maxRationaleChars: S.rationaleChars, layoutTokens: S.layoutTokens });
        return { recipe, grammar };
    } finally {
        await vocab.close();
    }
}

async function runOurs(spec: OursSpec): Promise<OursResult> {
    const r = await runChild<Omit<OursResult, 'ok'>>('run-ours.ts', spec);
    if (!r.ok) throw new Error(`our run failed: ${r.error}`);
    return { ok: true, ...r.result! };
}

async function runCli(args: string[]): Promise<MtmdCliRun> {
    const c = await runMtmdCliComplete(S.cli, args);
    if (!c.ok) throw new Error(`llama-mtmd-cli failed (exit ${c.exitCode}):\n${c.logTail}`);
    return c;
}

/** Interleaved runs ours, cli, ours, cli, ... */
async function sideBySide(
    label: string,
    ours: () => Promise<OursResult>,
    cli: () => Promise<MtmdCliRun>,
): Promise<{ ours: OursResult[]; cli: MtmdCliRun[] }> {
    const out = { ours: [] as OursResult[], cli: [] as MtmdCliRun[] };
    for (let i = 0; i < S.runs; i++) {
        log(`${label} ${i + 1}/${S.runs}: ours ... (load average ${load1().toFixed(2)})`);
        loads.push(load1());
        const o = await ours();
        out.ours.push(o);
        log(`  ours ${f0(o.runs[0]!.wallMs)} ms, ${o.runs[0]!.tokens.length} tokens; llama-mtmd-cli ...`);
        loads.push(load1());
        const c = await cli();
        out.cli.push(c);
        loads.push(load1());
        log(`  llama-mtmd-cli ${f0(c.wallMs)} ms, ${c.evalRuns} tokens`);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
    if (!existsSync(S.cli)) throw new Error(`${S.cli} is missing: build llama.cpp's tools first (npm run build:tools)`);
    mkdirSync(opt.models!, { recursive: true });
    const work = mkdtempSync(path.join(os.tmpdir(), 'llavaguard-bench-'));
    try {
        const pair: Pair = QUICK
            ? await cachedTestModel('onevision')
            : opt.pair
              ? { model: path.join(opt.pair, 'model.gguf'), mmproj: path.join(opt.pair, 'mmproj.gguf') }
              : await ensurePair('llavaguard-v1.2-0.5b', 'q8_0');
        const image = path.join(opt.models!, 'bench-photo-384.png');
        if (!existsSync(image)) await writePhotoLikePng(image, 384, 384, 1);

        const { recipe, grammar } = await benchRecipe(pair, Policy.default('v1.2'));
        const prompt = recipe.text;
        drafts = recipe.drafts(true);
        const promptFile = path.join(work, 'prompt.txt');
        const grammarFile = path.join(work, 'verdict.gbnf');
        writeFileSync(promptFile, prompt);
        writeFileSync(grammarFile, grammar);

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
                pair: await ensurePair('llavaguard-v1.1-7b', 'q8_0'),
                work,
                grammar,
                cli: S.cli,
                oursSpec: (p, pf, gf, n) => oursSpec(p, image, pf, gf, true, n),
                cliArgs: (p, pr, gf, n) => cliArgs(p, image, pr, gf, true, n),
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

        const matched = await sideBySide(
            'same settings',
            () => runOurs(oursSpec(pair, image, promptFile, grammarFile, true)),
            () => runCli(cliArgs(pair, image, prompt, grammarFile, true)),
        );
        const defaults = opt['no-defaults']
            ? undefined
            : await sideBySide(
                  'own defaults',
                  () => runOurs(oursSpec(pair, image, promptFile, grammarFile, false)),
                  () => runCli(cliArgs(pair, image, prompt, grammarFile, false)),
              );

        // ---- checks: the same tokens on both sides
        const notes: string[] = [];
        const oFirst = matched.ours.map((r) => r.runs[0]!);
        const promptCounts = new Set([...oFirst.map((r) => r.promptTokens), ...matched.cli.map((r) => r.promptTokens)]);
        notes.push(
            promptCounts.size === 1
                ? `prompt tokens identical on both sides: ${[...promptCounts][0]} (${oFirst[0]!.imageTokens} of them image tokens, ${matched.cli[0]!.imageChunks} image chunk(s))`
                : `PROMPT TOKEN COUNTS DIFFER: ours ${oFirst.map((r) => r.promptTokens).join('/')}, llama-mtmd-cli ${matched.cli.map((r) => r.promptTokens).join('/')}`,
        );
        const allTexts = [
            ...oFirst.map((r, i) => [`ours#${i + 1}`, r.text]),
            ...matched.cli.map((r, i) => [`cli#${i + 1}`, r.text]),
        ] as Array<[string, string]>;
        const texts = new Map<string, string[]>();
        for (const [who, text] of allTexts) texts.set(text, [...(texts.get(text) ?? []), who]);
        notes.push(
            texts.size === 1
                ? `generated text identical on both sides and in every run (${oFirst[0]!.tokens.length} tokens, stop: ${oFirst[0]!.stopReason})`
                : `GENERATED TEXT DIFFERS between runs/sides: ${[...texts].map(([t, who]) => `${who.join('+')}: ${JSON.stringify(t.slice(0, 90))}... (${t.length} chars)`).join('; ')}`,
        );
        notes.push(
            `our peak RSS includes node itself, the TypeScript loader and our modules: ${f0(median(matched.ours.map((r) => r.baseRssMiB ?? NaN)))} MiB before the model loads`,
        );

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
            const images = await photoSet(opt.models!, Number(opt.images));
            throughput = await runThroughput(
                S,
                pair,
                images,
                (img) => cliArgs(pair, img, prompt, grammarFile, true),
                THROUGHPUT_RUNS,
            );
            checkpoint({ throughput });
        }
        let pipelines: PipelineFigures[] | undefined;
        const pipelineImage = path.join(opt.models!, 'bench-photo-768x576.png');
        if (!opt['no-pipelines']) {
            log('image pipelines: faithful / fast / llama.cpp ...');
            if (!existsSync(pipelineImage)) await writePhotoLikePng(pipelineImage, 768, 576, 3);
            pipelines = await runPipelines(S, pair, pipelineImage);
            checkpoint({ pipelines });
        }
        let defaultsTable: { text: string; json: unknown } | undefined;
        if (opt['defaults-table']) {
            const largeImage = path.join(opt.models!, 'bench-photo-768.png');
            if (!existsSync(largeImage)) await writePhotoLikePng(largeImage, 768, 768, 1);
            defaultsTable = await runDefaultsTable(S, {
                pair,
                image,
                largeImage,
                depth: Math.round(ours.promptTokens),
                imageTokens: oFirst[0]!.imageTokens,
                ...(QUICK ? { p: 64, n: 8, r: 2 } : { p: 512, n: 32, r: 3 }),
                weightModels: () => weightModels(pair),
            });
        }

        // ---- report
        const cpu = os.cpus();
        const out: string[] = [];
        out.push(`## llavaguard addon vs llama-mtmd-cli (${new Date().toISOString()})`, '');
        out.push(
            `machine: ${cpu[0]?.model ?? '?'}, ${cpu.length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}, node ${process.version}`,
        );
        out.push(
            `model: ${QUICK ? 'tiny onevision TEST model (smoke run: figures meaningless)' : 'llavaguard-v1.2-0.5b shapes (random weights)'}, text ${mib(statSync(pair.model).size)} MiB, mmproj ${mib(statSync(pair.mmproj).size)} MiB`,
        );
        out.push(
            `image: ${path.basename(image)} 384x384; prompt: default v1.2 policy in the OneVision ChatML turns; grammar: verdict grammar (layout tokens: ${opt['layout-tokens']}), rationale <= ${S.rationaleChars} chars`,
        );
        out.push(
            `sampling: greedy (temp 0; top-k ${S.topK}, top-p ${S.topP}, min-p 0, seed ${S.seed}); -n / maxTokens ${S.maxTokens}`,
        );
        out.push(
            `1-minute load average during the side-by-side runs (other users' work on a shared machine): ${loads.map((l) => l.toFixed(1)).join(', ')}`,
        );
        out.push(
            `matched settings: threads ${S.threads} (text and vision), flash attention off (text and vision), ctx ${S.ctx}, batch ${S.batch}, ubatch ${S.ubatch}, no warm-up run, our grammar jump-forward off`,
        );
        out.push('');
        out.push(
            table(
                `Same settings: ${S.runs} runs a side, interleaved, each a fresh process`,
                ours,
                cli,
                matched.ours.length,
                matched.cli.length,
            ),
        );
        out.push(
            '',
            `**ratio ours / llama-mtmd-cli, wall time per verdict: ${f3(fullVsMtmdCli)}** (target <= 1.02)`,
            '',
        );
        out.push(
            'per run (ms): ours ' +
                oFirst.map((r) => f0(r.wallMs)).join(', ') +
                '; llama-mtmd-cli ' +
                matched.cli.map((r) => f0(r.wallMs)).join(', '),
        );
        for (const n of notes) out.push(`- ${n}`);
        if (defaults && od && cd) {
            const title =
                "Each side's own defaults (ours: VisionModel.load({model, mmproj}) + createContext(), jump-forward on; llama-mtmd-cli: no -t/-tb/-fa/-c/-b/-ub, warm-up on)";
            out.push('', table(title, od, cd, defaults.ours.length, defaults.cli.length), '');
            out.push(
                `**ratio ours / llama-mtmd-cli with each side's defaults: ${f3(defaultsVsMtmdCliDefaults)}** (target <= 0.5)`,
            );
            out.push(
                `**forward passes per generated token, ours with defaults (jump-forward): ${f3(forwardPassesPerGeneratedToken)}** (target <= 0.60)`,
            );
            const fa = defaults.ours[0]!.flashAttention;
            if (fa)
                out.push(
                    `- our defaults ran flash attention text ${fa.text.value} (${fa.text.source}), vision encoder ${fa.vision?.value ?? '-'} (${fa.vision?.source ?? '-'})`,
                );
            out.push(
                `- defaults: generated text identical: ${defaults.ours[0]!.runs[0]!.text === defaults.cli[0]!.text}; ours ${defaults.ours[0]!.runs[0]!.tokens.length} tokens in ${defaults.ours[0]!.runs[0]!.forwardPasses.decode} forward passes after the prompt, llama-mtmd-cli ${defaults.cli[0]!.evalRuns}`,
            );
            const r0 = defaults.ours[0]!.runs[0]!;
            if (r0.draftTokens) {
                out.push(
                    `- ours: ${r0.forcedTokens} tokens forced by the grammar; verdict drafts: ${r0.draftTokens.accepted} of ${r0.draftTokens.proposed} draft tokens confirmed by sampling (random weights spell the literals in arbitrary tokens; see BENCHMARKS.md for what a model writing the canonical tokens needs)`,
                );
            }
        }
        if (modes && floor) out.push('', floorTable(floor, S.threads), '', modesTable(modes, floor, S.threads));
        if (throughput) out.push('', throughputTable(throughput, S.threads));
        if (pipelines) out.push('', pipelinesTable(pipelines, '768x576', S.threads));
        if (memory7b) out.push('', memoryTable(memory7b, S.ctx));
        if (defaultsTable) out.push('', defaultsTable.text);
        out.push('');
        out.push(
            'Method: ours = ctx.generate() alone, in a fresh process after VisionModel.load + createContext + decoding the PNG;',
        );
        out.push(
            'llama-mtmd-cli = from its "WARN: This is an experimental CLI" log line (model and mmproj loaded) to its first',
        );
        out.push(
            'llama_perf_context_print line, from --log-timestamps (includes stb_image decoding the PNG, a few ms).',
        );
        out.push(
            'image encode: ours timings.imageMs, cli "mtmd batch encoding done in X ms"; prompt eval: ours timings.promptMs,',
        );
        out.push(
            'cli llama_perf "prompt eval time" minus the image encode (llama_perf\'s window spans the whole prefill, encode',
        );
        out.push(
            'included); generation phase = wall - image - prompt eval. CPU time: ours process.cpuUsage() around generate;',
        );
        out.push(
            'cli /proc/<pid>/stat sampled as the two log lines arrive. Modes: LlavaGuard.assess / score timed from the call',
        );
        out.push('(PNG bytes in memory) to its result, in a fresh process after LlavaGuard.load.');
        process.stdout.write(`${out.join('\n')}\n`);

        if (opt.json) {
            const tp = (label: string) => throughput?.find((t) => t.label.startsWith(label));
            const seq = tp('ours, sequential');
            const par4 = tp('ours, 4 parallel');
            const json = {
                // headline figures (issue #5)
                fullVsMtmdCli,
                defaultsVsMtmdCliDefaults,
                forwardPassesPerGeneratedToken,
                scoreVsFloor: modes && floor ? modes.score!.wallMs / floor.floorMs : NaN,
                noRationaleVsFloor: modes && floor ? modes.noRationale!.wallMs / floor.floorMs : NaN,
                parallel4VsSequential: seq && par4 ? par4.imagesPerS / seq.imagesPerS : NaN,
                floorMs: floor?.floorMs ?? NaN,
                // the rest
                date: new Date().toISOString(),
                quick: QUICK,
                machine: { cpu: cpu[0]?.model, cpus: cpu.length, memGiB: os.totalmem() / 2 ** 30 },
                settings: { ...S, flashAttention: 'off', throughputRuns: THROUGHPUT_RUNS, images: Number(opt.images) },
                matched: {
                    ours,
                    cli,
                    oursRuns: matched.ours.map((r) => ({
                        ...oursFigures(r.runs[0]!, r),
                        timings: r.runs[0]!.timings,
                        forwardPasses: r.runs[0]!.forwardPasses,
                    })),
                    cliRuns: matched.cli.map((r) => ({
                        ...cliFigures(r),
                        prefillMs: r.prefillMs,
                        evalMs: r.evalMs,
                        imageDecodeMs: r.imageDecodeMs,
                        processMs: r.processMs,
                        arrivalWallMs: r.arrivalWallMs,
                    })),
                },
                defaults: od &&
                    cd && {
                        ours: od,
                        cli: cd,
                        texts: { ours: defaults!.ours[0]!.runs[0]!.text, cli: defaults!.cli[0]!.text },
                    },
                floor,
                modes,
                throughput,
                pipelines,
                defaultsTable: defaultsTable?.json,
                memory7b: memory7b && {
                    oursPeakRssMiB: memory7b.ours.peakRssMiB,
                    cliPeakRssMiB: memory7b.cli.peakRssMiB,
                    modelBytes: memory7b.modelBytes,
                    mmprojBytes: memory7b.mmprojBytes,
                },
                checks: notes,
                loadAverages: loads,
                generatedText: oFirst[0]!.text,
                texts: Object.fromEntries(allTexts),
            };
            // NaN is not JSON: a missing figure is written as null
            writeFileSync(
                opt.json,
                `${JSON.stringify(json, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
            );
            log(`wrote ${opt.json}`);
        }
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}

await main();
