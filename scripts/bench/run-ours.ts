// Child process of scripts/bench/overhead.ts: one assessment through our addon in a fresh process (the same
// life cycle as one llama-mtmd-cli run). Loads the model, creates a context, decodes the image (all untimed),
// then times ctx.generate alone and prints one JSON line prefixed with BENCH_RESULT.
//
//   node --import @tapjs/typescript/import scripts/bench/run-ours.ts '<json spec>'

import { readFileSync } from 'node:fs';

import { loadImage } from '../../lib/image/index.js';
import { childResult, childSpec, givenOptions, selfStatusMiB } from './common.js';
import { loadModelAndContext } from './lib/child-load.js';

export interface OursSpec {
    model: string;
    mmproj: string;
    image: string;
    promptFile: string;
    grammarFile: string;
    maxTokens: number;
    temperature: number;
    topK: number;
    topP: number;
    seed: number;
    /** undefined: our defaults */
    threads?: number;
    contextSize?: number;
    batchSize?: number;
    ubatchSize?: number;
    flashAttention?: 'on' | 'off' | 'auto';
    /** grammar jump-forward (our default: on); off = plain constrained decoding, one forward pass per token */
    jumpForward?: boolean;
    /** likely continuations for speculative jump-forward (LlavaGuard passes verdictDrafts(policy)) */
    drafts?: string[];
    /** add BOS etc. (LLaMA/Vicuna prompts); default false */
    addSpecial?: boolean;
    /** how many timed generations in this process (the first is the one compared; later ones are warm) */
    repeat?: number;
}

/** node + the TypeScript loader + our modules, before the addon loads a model */
const baseRssMiB = selfStatusMiB('VmRSS');

const spec = childSpec<OursSpec>();
const prompt = readFileSync(spec.promptFile, 'utf8');
const grammar = readFileSync(spec.grammarFile, 'utf8');

const { model, ctx, loadMs } = await loadModelAndContext(
    {
        model: spec.model,
        mmproj: spec.mmproj,
        ...givenOptions({ mmprojThreads: spec.threads, mmprojFlashAttention: spec.flashAttention }),
    },
    givenOptions({
        contextSize: spec.contextSize,
        threads: spec.threads,
        batchSize: spec.batchSize,
        ubatchSize: spec.ubatchSize,
        flashAttention: spec.flashAttention,
    }),
);
const img = await loadImage(spec.image);
if (!prompt.includes(model.info.mediaMarker)) throw new Error(`the prompt has no ${model.info.mediaMarker}`);

const runs = [];
for (let i = 0; i < (spec.repeat ?? 1); i++) {
    await ctx.clearSequence();
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    const r = await ctx.generate({
        prompt: {
            text: prompt,
            images: [{ data: img.data, width: img.width, height: img.height }],
            addSpecial: spec.addSpecial ?? false,
        },
        grammar,
        temperature: spec.temperature,
        topK: spec.topK,
        topP: spec.topP,
        seed: spec.seed,
        maxTokens: spec.maxTokens,
        ...givenOptions({ jumpForward: spec.jumpForward, drafts: spec.drafts }),
    });
    const wallMs = performance.now() - t1;
    const cpu = process.cpuUsage(c1);
    runs.push({
        wallMs,
        /** user + system CPU time of the whole process (all threads) during generate */
        cpuMs: (cpu.user + cpu.system) / 1000,
        text: r.text,
        tokens: Array.from(r.tokens),
        stopReason: r.stopReason,
        promptTokens: r.promptTokens,
        imageTokens: r.imageTokens,
        forwardPasses: r.forwardPasses,
        forcedTokens: r.forcedTokens,
        draftTokens: r.draftTokens,
        timings: r.timings,
    });
}
const info = { threads: ctx.info, mmprojThreads: spec.threads };
const flashAttention = { text: ctx.flashAttention, vision: model.mmprojFlashAttention };
await ctx.close();
await model.close();
childResult({ loadMs, peakRssMiB: selfStatusMiB('VmHWM'), baseRssMiB, runs, context: info.threads, flashAttention });
