// Tiles of one picture through the vision encoder as one graph (mtmd's batch API, patches/llama.cpp/0002): each
// image gets the rows it gets when encoded alone, for both projector families, and sizes that cannot share a graph
// split the batch instead of failing, and a batch past what one graph can hold is split too.
import sharp from 'sharp';
import t from 'tap';

import { cachedTestModel, makeTestModel } from '../gguf/synthetic/tiny-models.js';
import { LlavaGuard } from '../lib/index.js';
import { VisionModel } from '../lib/runtime/VisionModel.js';
import { closeAllModels, FAMILIES, patternImage, tinyModel } from './helpers/models.js';
import { worstRelative } from './helpers/rows.js';
import { tempDir } from './helpers/temp-dir.js';

t.teardown(closeAllModels);

for (const family of FAMILIES) {
    for (const flashAttention of ['on', 'off'] as const) {
        // with flash attention the batch is the attention kernel's fourth dimension, without it image by image
        t.test(
            `${family}, tower flash attention ${flashAttention}: a batched encode gives every image the rows it gets alone`,
            async (t) => {
                const files = await cachedTestModel(family);
                await using model = await VisionModel.load({
                    model: files.model,
                    mmproj: files.mmproj,
                    mmprojThreads: 1,
                    mmprojFlashAttention: flashAttention,
                });
                t.equal(model.mmprojFlashAttention?.value, flashAttention);
                await using ctx = await model.createContext({ contextSize: 1024 });
                const side = model.vision!.imageSize;
                const images = [1, 2, 3, 4, 5].map((seed) => patternImage(side, side, seed));
                const alone = await ctx.encodeImages(images, { batch: 1 });
                const batched = await ctx.encodeImages(images, { batch: 5 });
                t.equal(batched.length, images.length);
                t.equal(
                    new Set(batched.map((e) => e.encodeMs)).size,
                    1,
                    'one graph: its time shared evenly by the five',
                );
                for (let i = 0; i < images.length; i++) {
                    t.equal(batched[i]!.nTokens, alone[i]!.nTokens, `image ${i}: same token count`);
                    const err = worstRelative(batched[i]!.embeddings, alone[i]!.embeddings);
                    t.ok(err < 1e-5, `image ${i}: worst difference ${err.toExponential(2)} of the largest value`);
                }
                t.not(
                    worstRelative(batched[0]!.embeddings, batched[1]!.embeddings),
                    0,
                    'different images keep different rows (no image is repeated for the batch)',
                );
            },
        );
    }
}

t.test('batch N encodes N images a graph, and a smaller image joins (mtmd resizes it to the input size)', async (t) => {
    const model = await tinyModel('onevision');
    await using ctx = await model.createContext({ contextSize: 1024 });
    const side = model.vision!.imageSize;
    const small = Math.floor(side / 2);
    const images = [
        patternImage(side, side, 1),
        patternImage(side, side, 2),
        patternImage(small, small, 3),
        patternImage(side, side, 4),
        patternImage(side, side, 5),
    ];
    const alone = await ctx.encodeImages(images, { batch: 1 });
    const batched = await ctx.encodeImages(images, { batch: 2 });
    for (let i = 0; i < images.length; i++) {
        t.equal(batched[i]!.nTokens, alone[i]!.nTokens);
        t.ok(worstRelative(batched[i]!.embeddings, alone[i]!.embeddings) < 1e-5, `image ${i}: the same rows`);
    }
    const ms = batched.map((e) => e.encodeMs);
    t.equal(ms[0], ms[1], 'images 0 and 1 share a graph');
    t.equal(ms[2], ms[3], 'images 2 (the smaller one) and 3 share the next');
    t.not(ms[4], ms[3], 'image 4 has a graph of its own');
});

t.test("a batch larger than a deep tower's graph can hold is encoded in smaller graphs, not aborted", async (t) => {
    // 28 blocks at the tiny width: one graph of 64 images would need ~25k tensors, past clip's pool of 8192, which
    // aborts the process inside ggml; the addon bounds each graph by the tower's depth (12 images here)
    const dir = tempDir('llavaguard-deep-tower-');
    const files = await makeTestModel({ family: 'onevision', outDir: dir, visionLayers: 28 });
    const model = await VisionModel.load({ ...files, gpu: 'cpu', mmprojThreads: 1 });
    t.teardown(() => model.close());
    await using ctx = await model.createContext({ contextSize: 512 });
    const side = model.vision!.imageSize;
    const images = Array.from({ length: 64 }, (_, i) => patternImage(side, side, i + 1));
    const batched = await ctx.encodeImages(images, { batch: 64 });
    const alone = await ctx.encodeImages(images.slice(0, 13), { batch: 1 });
    for (let i = 0; i < alone.length; i++)
        t.ok(worstRelative(batched[i]!.embeddings, alone[i]!.embeddings) < 1e-5, `image ${i}: the same rows`);
    const graphs = new Set(batched.map((e) => e.encodeMs)).size;
    t.ok(graphs >= Math.ceil(64 / 12), `${graphs} graphs of at most 12 images`);
    t.equal(batched[0]!.encodeMs, batched[11]!.encodeMs, 'the first 12 images share a graph');
    t.not(batched[12]!.encodeMs, batched[11]!.encodeMs, 'the 13th starts the next');
});

t.test('a batch size outside 1-64 is a RangeError before anything is encoded', async (t) => {
    const model = await tinyModel('onevision');
    await using ctx = await model.createContext({ contextSize: 1024 });
    const side = model.vision!.imageSize;
    const tile = patternImage(side, side, 1);
    for (const batch of [0, -1, 1.5, 65, Number.NaN]) {
        await t.rejects(ctx.encodeImages([tile], { batch }), RangeError, `batch ${batch}`);
    }
});

t.test("LlavaGuard's encodeBatch gives the scores tile by tile gives, and rejects a bad value at load", async (t) => {
    const files = await cachedTestModel('onevision');
    const img = patternImage(90, 60, 7);
    const png = await sharp(Buffer.from(img.data), { raw: { width: 90, height: 60, channels: 3 } })
        .png()
        .toBuffer();
    const scores = async (encodeBatch?: number) => {
        await using g = await LlavaGuard.load({ ...files, threads: 1, encodeBatch });
        t.equal(g.imagePipeline.name, 'onevision-anyres');
        t.equal(g.imagePipeline.encodeBatch, encodeBatch ?? 1);
        return await g.score(png);
    };
    const alone = await scores();
    const batched = await scores(8);
    const v = (await tinyModel('onevision')).vision!;
    const g0Tokens = (v.imageSize / v.patchSize) ** 2;
    t.ok(alone.tokens.image > 2 * g0Tokens, `${alone.tokens.image} image tokens: several encoder inputs`);
    t.same(batched.ratingProbabilities, alone.ratingProbabilities, 'identical rating probabilities');
    t.same(batched.categoryProbabilities, alone.categoryProbabilities, 'identical category probabilities');
    await t.rejects(LlavaGuard.load({ ...files, encodeBatch: 0 }), RangeError);
});
