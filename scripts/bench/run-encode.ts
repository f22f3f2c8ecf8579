// Child process of the benchmark's --defaults-table: image encode time through our addon in a fresh process
// with given vision-encoder settings. Evaluates "<marker>" + the image (VisionContext.evaluate: the image
// chunk(s) encoded by mtmd and decoded into the KV cache), `repeat` times, clearing the sequence in between.
//
//   node --import @tapjs/typescript/import scripts/bench/run-encode.ts '<json spec>'

import { loadImage } from '../../lib/image/index.js';
import { childResult, childSpec, givenOptions, selfStatusMiB } from './common.js';
import { loadModelAndContext } from './lib/child-load.js';

export interface EncodeSpec {
    model: string;
    mmproj: string;
    image: string;
    threads: number;
    mmprojFlashAttention: 'on' | 'off' | 'auto';
    imageMaxTokens?: number;
    repeat: number;
    contextSize: number;
}

export interface EncodeResult {
    loadMs: number;
    peakRssMiB: number;
    imageTokens: number;
    /** per evaluation: mtmd's image encode, and the rest of the prefill (the image embeddings' decode) */
    imageMs: number[];
    promptMs: number[];
}

const spec = childSpec<EncodeSpec>();
const { model, ctx, loadMs } = await loadModelAndContext(
    {
        model: spec.model,
        mmproj: spec.mmproj,
        mmprojThreads: spec.threads,
        mmprojFlashAttention: spec.mmprojFlashAttention,
        ...givenOptions({ imageMaxTokens: spec.imageMaxTokens }),
    },
    { threads: spec.threads, contextSize: spec.contextSize },
);
// the bench's pictures (384 and 768 px) are below every anyres resolution: no downscaling
const img = await loadImage(spec.image);
const imageMs: number[] = [];
const promptMs: number[] = [];
let imageTokens = 0;
for (let i = 0; i < spec.repeat; i++) {
    await ctx.clearSequence();
    const r = await ctx.evaluate({
        prompt: { text: model.info.mediaMarker, images: [{ data: img.data, width: img.width, height: img.height }] },
    });
    imageMs.push(r.imageMs);
    promptMs.push(r.promptMs);
    imageTokens = r.imageTokens;
}
await ctx.close();
await model.close();
const result: EncodeResult = { loadMs, peakRssMiB: selfStatusMiB('VmHWM'), imageTokens, imageMs, promptMs };
childResult(result);
