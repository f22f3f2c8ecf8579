// Child process of `npm run bench -- --photos`: the vision encoder's rate per tile, measured apart from any
// assessment so that the photo floor does not come from our own pipeline's timings, and how many tiles and image
// tokens each photo size makes (the faithful OneVision plan; llama.cpp's own tiling's upper bound, which sizes
// llama-mtmd-cli's context).
//
// One encoder input (imageSize x imageSize: 384 x 384 for SigLIP-384) goes through VisionContext.encodeImages
// alone, the call the faithful pipeline makes for its overview and tiles: `warmup` untimed encodes first, then
// `repeat` timed ones (encodeMs, the native encode of that input: mtmd's preprocessing of the tile, the tower and
// the projector).
//
// With `batch`, the same `batch.tiles` distinct tiles (one photo's encoder inputs) are also encoded tile by tile
// (encodeImages with batch 1), as one graph (batch = tiles) and in graphs of each of `batch.sizes`, `batch.runs`
// rounds, each round starting one path later: the batched path's time over tile by tile. The first round runs
// tile by tile first, so the peak RSS it adds is the batched graph's extra memory.
//
//   node --import @tapjs/typescript/import scripts/bench/run-tile-encode.ts '<json spec>'

import { ImagePipeline } from '../../lib/pipeline/index.js';
import { planOneVision } from '../../lib/preprocess/index.js';
import { childResult, childSpec, givenOptions, selfStatusMiB } from './common.js';
import { photoLikePixels } from './image.js';
import { loadModelAndContext } from './lib/child-load.js';

export interface TileEncodeSpec {
    model: string;
    mmproj: string;
    threads: number;
    /** omitted: the library measures it at load, as an assessment's model does */
    mmprojFlashAttention?: 'on' | 'off' | 'auto';
    sizes: Array<{ width: number; height: number }>;
    warmup: number;
    repeat: number;
    /** tiles: how many (default: the first size's encoder inputs); sizes: more graph sizes to time besides 1 and tiles */
    batch?: { tiles?: number; runs: number; sizes?: number[] };
}

export interface BatchedEncodeResult {
    tiles: number;
    /** wall time of encodeImages over the tiles, batch 1 */
    tileByTileMs: number[];
    /** the same tiles, batch = tiles */
    batchedMs: number[];
    /** peak RSS after the first tile-by-tile pass, and after the first batched one */
    peakRssTileByTileMiB: number;
    peakRssBatchedMiB: number;
    /** the same tiles in graphs of `batch` tiles (the last graph takes the rest), for each of the spec's sizes */
    otherSizes: Array<{ batch: number; ms: number[] }>;
}

export interface PhotoPlan {
    width: number;
    height: number;
    /** encoder inputs of the faithful pipeline: overview + grid tiles */
    tiles: number;
    grid: { rows: number; cols: number };
    /** image tokens of the faithful pipeline (after unpadding / downsampling, newlines included) */
    imageTokens: number;
}

export interface TileEncodeResult {
    loadMs: number;
    peakRssMiB: number;
    tileSide: number;
    tileTokens: number;
    /** the encoder's flash attention (given, or measured at load) */
    mmprojFlashAttention: string | undefined;
    /** the timed encodes of one tile */
    encodeMs: number[];
    plans: PhotoPlan[];
    /** ImagePipeline.maxImageTokens of llama.cpp's own tiling: the most image tokens mtmd can make of one picture */
    llamaCppMaxImageTokens: number;
    batched?: BatchedEncodeResult;
}

const spec = childSpec<TileEncodeSpec>();
const { model, ctx, loadMs } = await loadModelAndContext(
    {
        model: spec.model,
        mmproj: spec.mmproj,
        mmprojThreads: spec.threads,
        ...givenOptions({ mmprojFlashAttention: spec.mmprojFlashAttention }),
    },
    // the context only hosts the encode (the encoder uses the model's mtmd context); flash attention given, so
    // no probe runs at creation
    { threads: spec.threads, contextSize: 512, flashAttention: 'off' },
);
const faithful = await ImagePipeline.create(model, 'faithful');
const config = faithful.choice.onevision;
if (faithful.name !== 'onevision-anyres' || !config)
    throw new Error(
        `the photo floor needs a OneVision (anyres) mmproj; this one gets '${faithful.name}' (${faithful.choice.reason})`,
    );
const llamaCpp = await ImagePipeline.create(model, 'llama.cpp');
const side = config.imageSize;
const plans: PhotoPlan[] = spec.sizes.map(({ width, height }) => {
    const p = planOneVision({ width, height }, config);
    return { width, height, tiles: p.tiles.length + 1, grid: p.grid, imageTokens: p.tokens.total };
});
const tile = { data: photoLikePixels(side, side, 1), width: side, height: side };
const encodeMs: number[] = [];
for (let i = 0; i < spec.warmup + spec.repeat; i++) {
    const [e] = await ctx.encodeImages([tile]);
    if (e!.nTokens !== faithful.tileTokens)
        throw new Error(`one ${side}x${side} tile made ${e!.nTokens} embeddings; ${faithful.tileTokens} expected`);
    if (i >= spec.warmup) encodeMs.push(e!.encodeMs);
}
let batched: BatchedEncodeResult | undefined;
if (spec.batch) {
    const n = spec.batch.tiles ?? plans[0]!.tiles;
    const tiles = Array.from({ length: n }, (_, i) => ({
        data: photoLikePixels(side, side, i + 2),
        width: side,
        height: side,
    }));
    const timed = async (batch: number) => {
        const t0 = performance.now();
        const out = await ctx.encodeImages(tiles, { batch });
        if (out.some((e) => e.nTokens !== faithful.tileTokens)) throw new Error('a tile made the wrong token count');
        return performance.now() - t0;
    };
    const others = (spec.batch.sizes ?? []).filter((b) => b !== 1 && b !== n);
    const paths = [1, n, ...others];
    const times = new Map<number, number[]>(paths.map((b) => [b, []]));
    const peakRssMiB = new Map<number, number>();
    for (let r = 0; r < spec.batch.runs; r++) {
        for (let k = 0; k < paths.length; k++) {
            const b = paths[(k + r) % paths.length]!;
            times.get(b)!.push(await timed(b));
            if (r === 0) peakRssMiB.set(b, selfStatusMiB('VmHWM'));
        }
    }
    batched = {
        tiles: n,
        tileByTileMs: times.get(1)!,
        batchedMs: times.get(n)!,
        peakRssTileByTileMiB: peakRssMiB.get(1)!,
        peakRssBatchedMiB: peakRssMiB.get(n)!,
        otherSizes: others.map((b) => ({ batch: b, ms: times.get(b)! })),
    };
}
await ctx.close();
await model.close();
const result: TileEncodeResult = {
    loadMs,
    peakRssMiB: selfStatusMiB('VmHWM'),
    tileSide: side,
    tileTokens: faithful.tileTokens,
    mmprojFlashAttention: model.mmprojFlashAttention?.value,
    encodeMs,
    plans,
    llamaCppMaxImageTokens: llamaCpp.maxImageTokens,
    ...(batched ? { batched } : {}),
};
childResult(result);
