// What scripts/bench/overhead.ts reports: the checks that both sides decoded the same tokens, the markdown
// report and the --json figures.

import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type BenchSettings, f0, f3, median, mib } from '../common.js';
import { cliFigures, type Figures, type OursResult, oursFigures, table } from '../figures.js';
import { type Floor, floorTable } from '../floor.js';
import { type Memory7b, memoryTable } from '../memory7b.js';
import { type ModeFigures, modesTable } from '../modes.js';
import type { MtmdCliRun } from '../mtmd-cli.js';
import { type PipelineFigures, pipelinesTable } from '../pipelines.js';
import { type ThroughputFigures, throughputTable } from '../throughput.js';
import type { Pair } from './bench-pairs.js';

export interface SideRuns {
    ours: OursResult[];
    cli: MtmdCliRun[];
}

/** The checks that both sides evaluated the same prompt and generated the same text, as report lines. */
export function sameTokenChecks(matched: SideRuns) {
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
    return { notes, oFirst, allTexts };
}

/** Everything one overhead run measured, for the report and the JSON. */
export interface OverheadResults {
    S: BenchSettings;
    quick: boolean;
    layoutTokens: string;
    images: number;
    throughputRuns: number;
    pair: Pair;
    image: string;
    loads: number[];
    matched: SideRuns;
    defaults?: SideRuns;
    ours: Figures;
    cli: Figures;
    od?: Figures;
    cd?: Figures;
    fullVsMtmdCli: number;
    defaultsVsMtmdCliDefaults: number;
    forwardPassesPerGeneratedToken: number;
    checks: ReturnType<typeof sameTokenChecks>;
    modes?: Record<string, ModeFigures>;
    floor?: Floor;
    throughput?: ThroughputFigures[];
    pipelines?: PipelineFigures[];
    memory7b?: Memory7b;
    defaultsTable?: { text: string; json: unknown };
}

const METHOD = [
    'Method: ours = ctx.generate() alone, in a fresh process after VisionModel.load + createContext + decoding the PNG;',
    'llama-mtmd-cli = from its "WARN: This is an experimental CLI" log line (model and mmproj loaded) to its first',
    'llama_perf_context_print line, from --log-timestamps (includes stb_image decoding the PNG, a few ms).',
    'image encode: ours timings.imageMs, cli "mtmd batch encoding done in X ms"; prompt eval: ours timings.promptMs,',
    'cli llama_perf "prompt eval time" minus the image encode (llama_perf\'s window spans the whole prefill, encode',
    'included); generation phase = wall - image - prompt eval. CPU time: ours process.cpuUsage() around generate;',
    'cli /proc/<pid>/stat sampled as the two log lines arrive. Modes: LlavaGuard.assess / score timed from the call',
    '(PNG bytes in memory) to its result, in a fresh process after LlavaGuard.load.',
];

/** The markdown report. */
export function overheadReport(r: OverheadResults): string {
    const { S, matched, defaults, ours, cli, od, cd, pair, image } = r;
    const { notes, oFirst } = r.checks;
    const cpu = os.cpus();
    const out: string[] = [];
    out.push(`## llavaguard addon vs llama-mtmd-cli (${new Date().toISOString()})`, '');
    out.push(
        `machine: ${cpu[0]?.model ?? '?'}, ${cpu.length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}, node ${process.version}`,
    );
    out.push(
        `model: ${r.quick ? 'tiny onevision TEST model (smoke run: figures meaningless)' : 'llavaguard-v1.2-0.5b shapes (random weights)'}, text ${mib(statSync(pair.model).size)} MiB, mmproj ${mib(statSync(pair.mmproj).size)} MiB`,
    );
    out.push(
        `image: ${path.basename(image)} 384x384; prompt: default v1.2 policy in the OneVision ChatML turns; grammar: verdict grammar (layout tokens: ${r.layoutTokens}), rationale <= ${S.rationaleChars} chars`,
    );
    out.push(
        `sampling: greedy (temp 0; top-k ${S.topK}, top-p ${S.topP}, min-p 0, seed ${S.seed}); -n / maxTokens ${S.maxTokens}`,
    );
    out.push(
        `1-minute load average during the side-by-side runs (other users' work on a shared machine): ${r.loads.map((l) => l.toFixed(1)).join(', ')}`,
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
    out.push('', `**ratio ours / llama-mtmd-cli, wall time per verdict: ${f3(r.fullVsMtmdCli)}** (target <= 1.02)`, '');
    out.push(
        'per run (ms): ours ' +
            oFirst.map((x) => f0(x.wallMs)).join(', ') +
            '; llama-mtmd-cli ' +
            matched.cli.map((x) => f0(x.wallMs)).join(', '),
    );
    for (const n of notes) out.push(`- ${n}`);
    if (defaults && od && cd) {
        const title =
            "Each side's own defaults (ours: VisionModel.load({model, mmproj}) + createContext(), jump-forward on; llama-mtmd-cli: no -t/-tb/-fa/-c/-b/-ub, warm-up on)";
        out.push('', table(title, od, cd, defaults.ours.length, defaults.cli.length), '');
        out.push(
            `**ratio ours / llama-mtmd-cli with each side's defaults: ${f3(r.defaultsVsMtmdCliDefaults)}** (target <= 0.5)`,
        );
        out.push(
            `**forward passes per generated token, ours with defaults (jump-forward): ${f3(r.forwardPassesPerGeneratedToken)}** (target <= 0.60)`,
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
    if (r.modes && r.floor) out.push('', floorTable(r.floor, S.threads), '', modesTable(r.modes, r.floor, S.threads));
    if (r.throughput) out.push('', throughputTable(r.throughput, S.threads));
    if (r.pipelines) out.push('', pipelinesTable(r.pipelines, '768x576', S.threads));
    if (r.memory7b) out.push('', memoryTable(r.memory7b, S.ctx));
    if (r.defaultsTable) out.push('', r.defaultsTable.text);
    out.push('', ...METHOD);
    return `${out.join('\n')}\n`;
}

/** The --json file: the headline figures first, then the rest; NaN (not JSON) is written as null. */
export function overheadJson(r: OverheadResults): string {
    const { S, matched, defaults, od, cd, modes, floor, throughput } = r;
    const cpu = os.cpus();
    const tp = (label: string) => throughput?.find((t) => t.label.startsWith(label));
    const seq = tp('ours, sequential');
    const par4 = tp('ours, 4 parallel');
    const json = {
        // headline figures (issue #5)
        fullVsMtmdCli: r.fullVsMtmdCli,
        defaultsVsMtmdCliDefaults: r.defaultsVsMtmdCliDefaults,
        forwardPassesPerGeneratedToken: r.forwardPassesPerGeneratedToken,
        scoreVsFloor: modes && floor ? modes.score!.wallMs / floor.floorMs : NaN,
        noRationaleVsFloor: modes && floor ? modes.noRationale!.wallMs / floor.floorMs : NaN,
        parallel4VsSequential: seq && par4 ? par4.imagesPerS / seq.imagesPerS : NaN,
        floorMs: floor?.floorMs ?? NaN,
        // the rest
        date: new Date().toISOString(),
        quick: r.quick,
        machine: { cpu: cpu[0]?.model, cpus: cpu.length, memGiB: os.totalmem() / 2 ** 30 },
        settings: { ...S, flashAttention: 'off', throughputRuns: r.throughputRuns, images: r.images },
        matched: {
            ours: r.ours,
            cli: r.cli,
            oursRuns: matched.ours.map((x) => ({
                ...oursFigures(x.runs[0]!, x),
                timings: x.runs[0]!.timings,
                forwardPasses: x.runs[0]!.forwardPasses,
            })),
            cliRuns: matched.cli.map((x) => ({
                ...cliFigures(x),
                prefillMs: x.prefillMs,
                evalMs: x.evalMs,
                imageDecodeMs: x.imageDecodeMs,
                processMs: x.processMs,
                arrivalWallMs: x.arrivalWallMs,
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
        pipelines: r.pipelines,
        defaultsTable: r.defaultsTable?.json,
        memory7b: r.memory7b && {
            oursPeakRssMiB: r.memory7b.ours.peakRssMiB,
            cliPeakRssMiB: r.memory7b.cli.peakRssMiB,
            modelBytes: r.memory7b.modelBytes,
            mmprojBytes: r.memory7b.mmprojBytes,
        },
        checks: r.checks.notes,
        loadAverages: r.loads,
        generatedText: r.checks.oFirst[0]!.text,
        texts: Object.fromEntries(r.checks.allTexts),
    };
    return `${JSON.stringify(json, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
