// Child process of the benchmark: LlavaGuard's own modes in a fresh process, through the library as an
// application uses it (LlavaGuard.load, then assess / score). Loading and reading the image files are untimed;
// each call is timed from the call to its result (decoding the PNG bytes, prefill, generation or scoring).
//
//   node --import @tapjs/typescript/import scripts/bench/run-guard.ts '<json spec>'
//
// Modes:
//   full        assess(image)                        one verdict with its rationale
//   noRationale assess(image, { rationale: false })  the verdict stops after the category
//   score       score(image)                         P(Unsafe) and the category probabilities from the logits
//   throughput  assess() of every image: one after another with sequences 1, else all calls at once (the
//               guard's batcher decodes up to `sequences` of them together)

import { readFileSync } from 'node:fs';

import { LlavaGuard } from '../../lib/guard/LlavaGuard.js';
import type { AssessOptions } from '../../lib/guard/types.js';
import { type ChildMeasures, childResult, childSpec, givenOptions, selfStatusMiB, timedLoad } from './common.js';

export type GuardMode = 'full' | 'noRationale' | 'score' | 'throughput';

export interface GuardSpec {
    mode: GuardMode;
    model: string;
    mmproj: string;
    images: string[];
    threads: number;
    sequences?: number;
    flashAttention?: 'on' | 'off' | 'auto';
    temperature: number;
    topK: number;
    topP: number;
    seed: number;
    maxTokens: number;
    maxRationaleChars: number;
    layoutTokens?: 'canonical' | 'any';
    /** LlavaGuard's image pipeline (lib/pipeline); the modes and throughput tables use llama.cpp's, as the floor does */
    imagePipeline?: 'faithful' | 'fast' | 'llama.cpp';
}

export interface GuardCall {
    wallMs: number;
    rating: string;
    category: string | null;
    raw?: string;
    unsafeProbability?: number;
    categoryProbabilities?: Record<string, number>;
    promptTokens: number;
    imageTokens: number;
    generated?: number;
    imageMs: number;
    promptMs: number;
    /** decode (assess) or scoring (score) */
    afterPromptMs: number;
    /** score mode: forward passes of the scoring after the prefill */
    scoringPasses?: number;
}

/** wallMs and cpuMs: one call, or all calls of the throughput mode. */
export interface GuardResult extends ChildMeasures {
    calls: GuardCall[];
    sequences: number;
    chatFormat: string;
    imagePipeline: string;
    /** the flash attention each part ran with (given, or the library's measured choice) */
    flashAttention: { text: string; vision: string | undefined };
}

const baseRssMiB = selfStatusMiB('VmRSS');

{
    const spec = childSpec<GuardSpec>();
    const { loaded: guard, loadMs } = await timedLoad(() =>
        LlavaGuard.load({
            model: spec.model,
            mmproj: spec.mmproj,
            threads: spec.threads,
            sequences: spec.sequences ?? 1,
            ...givenOptions({
                imagePipeline: spec.imagePipeline,
                flashAttention: spec.flashAttention,
                mmprojFlashAttention: spec.flashAttention,
            }),
        }),
    );
    const files = spec.images.map((f) => readFileSync(f));
    const options: AssessOptions = {
        temperature: spec.temperature,
        topK: spec.topK,
        topP: spec.topP,
        seed: spec.seed,
        maxTokens: spec.maxTokens,
        maxRationaleChars: spec.maxRationaleChars,
        ...(spec.layoutTokens ? { layoutTokens: spec.layoutTokens } : {}),
        ...(spec.mode === 'noRationale' ? { rationale: false } : {}),
    };

    const assessOne = async (file: Buffer): Promise<GuardCall> => {
        const t = performance.now();
        const a = await guard.assess(file, options);
        return {
            wallMs: performance.now() - t,
            rating: a.rating,
            category: a.category,
            raw: a.raw,
            promptTokens: a.tokens.prompt,
            imageTokens: a.tokens.image,
            generated: a.tokens.generated,
            imageMs: a.timings.imageMs,
            promptMs: a.timings.promptMs,
            afterPromptMs: a.timings.decodeMs,
        };
    };

    const c0 = process.cpuUsage();
    const t1 = performance.now();
    let calls: GuardCall[];
    if (spec.mode === 'score') {
        const t = performance.now();
        const s = await guard.score(files[0]!);
        calls = [
            {
                wallMs: performance.now() - t,
                rating: s.rating,
                category: s.category,
                unsafeProbability: s.unsafeProbability,
                categoryProbabilities: s.categoryProbabilities,
                promptTokens: s.tokens.prompt,
                imageTokens: s.tokens.image,
                imageMs: s.timings.imageMs,
                promptMs: s.timings.promptMs,
                afterPromptMs: s.timings.scoreMs,
                scoringPasses: s.forwardPasses.scoring,
            },
        ];
    } else if (spec.mode === 'throughput') {
        if ((spec.sequences ?? 1) <= 1) {
            calls = [];
            for (const f of files) calls.push(await assessOne(f));
        } else {
            calls = await Promise.all(files.map((f) => assessOne(f)));
        }
    } else {
        calls = [await assessOne(files[0]!)];
    }
    const wallMs = performance.now() - t1;
    const cpu = process.cpuUsage(c0);
    const result: GuardResult = {
        loadMs,
        baseRssMiB,
        peakRssMiB: selfStatusMiB('VmHWM'),
        wallMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        calls,
        sequences: guard.sequences,
        chatFormat: guard.modelInfo.chatFormat,
        imagePipeline: guard.modelInfo.imagePipeline,
        flashAttention: {
            text: guard.modelInfo.flashAttention.text.value,
            vision: guard.modelInfo.flashAttention.vision?.value,
        },
    };
    await guard.close();
    childResult(result);
}
