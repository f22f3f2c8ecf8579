import t from 'tap';
import sharp from 'sharp';

import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { LlavaGuard } from '../lib/guard/LlavaGuard.js';
import { ImagePipeline, selectImagePipeline } from '../lib/pipeline/index.js';
import { expandToSquare, oneVisionTokenCount, planOneVision, resizeBicubicPil } from '../lib/preprocess/index.js';
import { closeAllModels, imagePrompt, patternImage, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

const png = (w: number, h: number, seed = 1) => {
    const p = patternImage(w, h, seed);
    return sharp(Buffer.from(p.data), { raw: { width: w, height: h, channels: 3 } })
        .png()
        .toBuffer();
};

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

t.test('a tile decoded as embeddings from encodeImages gives the logits of the same tile through mtmd', async (t) => {
    for (const family of ['onevision', 'llava15'] as const) {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 1024 });
        const side = model.vision!.imageSize;
        const tile = patternImage(side, side, 4);
        const [enc] = await ctx.encodeImages([tile]);
        const perTile = Math.floor(side / model.vision!.patchSize) ** 2;
        t.equal(enc!.nTokens, perTile, `${family}: ${perTile} embeddings for one tile`);
        t.equal(enc!.embeddings.length, perTile * model.info.nEmbd);
        t.ok(enc!.embeddings.every(Number.isFinite));
        const text = imagePrompt(model);
        const viaMtmd = await ctx.evaluate({ prompt: { text, images: [tile] }, logits: true });
        const viaEmbd = await ctx.evaluate({
            prompt: { text, embeddings: [{ data: enc!.embeddings, nTokens: enc!.nTokens }] },
            logits: true,
        });
        t.equal(viaEmbd.promptTokens, viaMtmd.promptTokens, `${family}: same positions`);
        t.equal(viaEmbd.imageTokens, perTile);
        t.equal(maxAbs(viaEmbd.logits!, viaMtmd.logits!), 0, `${family}: bit-identical logits`);
    }
});

t.test(
    "the OneVision pipeline gives transformers' token count for every image size, downsampling included",
    async (t) => {
        const model = await tinyModel('onevision');
        const pipeline = await ImagePipeline.create(model);
        t.equal(pipeline.name, 'onevision-anyres');
        const config = pipeline.choice.onevision!;
        t.equal(config.maxNumPatches, 2, 'anyres_max_2 from the mmproj metadata');
        await using ctx = await model.createContext({ contextSize: 1024 });
        let downsampled = 0;
        for (const [w, h] of [
            [1, 1],
            [28, 28],
            [29, 28],
            [60, 30],
            [30, 60],
            [100, 100],
            [13, 90],
            [90, 13],
            [57, 171],
            [200, 150],
            [3, 500],
        ]) {
            const plan = planOneVision({ width: w, height: h }, config);
            if (plan.downsampled) downsampled++;
            const prepared = await pipeline.prepare({ ...patternImage(w, h, 5), channels: 3, source: 'test' }, ctx);
            const r = await ctx.evaluate({ prompt: { text: imagePrompt(model), embeddings: prepared.embeddings } });
            t.equal(
                r.imageTokens,
                oneVisionTokenCount({ width: w, height: h }, config),
                `${w}x${h}: ${r.imageTokens} image tokens`,
            );
        }
        t.ok(downsampled >= 2, `${downsampled} sizes exercise the bilinear downsampling`);
    },
);

t.test('assessments run the faithful OneVision pipeline by default and report it', async (t) => {
    const pair = await cachedTestModel('onevision');
    await using guard = await LlavaGuard.load({ ...pair, threads: 1 });
    t.equal(guard.modelInfo.imagePipeline, 'onevision-anyres');
    const config = guard.imagePipeline.choice.onevision!;
    for (const [w, h] of [
        [60, 30],
        [200, 150],
    ]) {
        const a = await guard.assess(await png(w, h), { seed: 1, rationale: false });
        t.equal(a.imagePipeline, 'onevision-anyres');
        t.equal(
            a.tokens.image,
            oneVisionTokenCount({ width: w, height: h }, config),
            `${w}x${h}: ${a.tokens.image} image tokens`,
        );
        t.ok(a.timings.imageMs > 0, "the tiles' encode time is counted");
    }
});

t.test('fast mode keeps the OneVision overview alone and reports it', async (t) => {
    const pair = await cachedTestModel('onevision');
    await using guard = await LlavaGuard.load({ ...pair, threads: 1, imagePipeline: 'fast' });
    const a = await guard.assess(await png(100, 60), { seed: 2, maxRationaleChars: 10 });
    t.equal(a.imagePipeline, 'onevision-fast');
    t.equal(guard.modelInfo.imagePipeline, 'onevision-fast');
    t.equal(a.tokens.image, 16, 'one 4x4 tile of features');
});

t.test("the llama.cpp pipeline is mtmd's own tiling, reported as such", async (t) => {
    const pair = await cachedTestModel('onevision');
    await using guard = await LlavaGuard.load({ ...pair, threads: 1, imagePipeline: 'llama.cpp' });
    const a = await guard.assess(await png(100, 100), { seed: 2, maxRationaleChars: 10 });
    t.equal(a.imagePipeline, 'llama.cpp');
    t.equal(a.tokens.image, 80, 'mtmd: 4 tiles + the overview, 16 each, no newlines');
});

t.test('the LLaVA-1.5 pipeline pads to a square in the mean colour before resizing', async (t) => {
    const model = await tinyModel('llava15');
    const pipeline = await ImagePipeline.create(model);
    t.equal(pipeline.name, 'llava15-pad');
    const cfg = pipeline.choice.llava15!;
    t.same([...cfg.padColor], [122, 116, 104], "LLaVA's int(mean * 255)");
    await using ctx = await model.createContext({ contextSize: 1024 });
    const rgb = { ...patternImage(50, 20, 3), channels: 3 as const, source: 'test' };
    const prepared = await pipeline.prepare(rgb, ctx);
    const expected = resizeBicubicPil(expandToSquare(rgb, cfg.padColor).image, cfg.imageSize, cfg.imageSize);
    t.equal(prepared.images!.length, 1);
    t.same(
        Buffer.from(prepared.images![0]!.data),
        Buffer.from(expected.data),
        'the padded, resized picture goes to mtmd',
    );
    t.equal(prepared.images![0]!.width, cfg.imageSize);
    // the top band is the pad colour (the 50x20 picture sits in the middle rows of a 50x50 square)
    t.same([...prepared.images![0]!.data.subarray(0, 3)], [122, 116, 104]);
});

t.test('the pipeline is chosen from the mmproj metadata', async (t) => {
    const ov = await tinyModel('onevision');
    const l15 = await tinyModel('llava15');
    t.equal(selectImagePipeline(ov.vision).name, 'onevision-anyres');
    t.equal(selectImagePipeline(ov.vision, 'fast').name, 'onevision-fast');
    t.equal(selectImagePipeline(l15.vision).name, 'llava15-pad');
    t.equal(selectImagePipeline(l15.vision, 'llama.cpp').name, 'llama.cpp');
    // a LLaVA-1.6-like tower (CLIP class token, anyres, newline) has no faithful pipeline yet
    t.equal(
        selectImagePipeline({ ...l15.vision!, gridPinpoints: [[64, 64]], hasImageNewline: true }).name,
        'llama.cpp',
    );
    t.equal(selectImagePipeline(undefined).name, 'llama.cpp');
    await t.rejects(ImagePipeline.create(ov, 'best' as never), /imagePipeline must be/);
});

t.test('bad embeddings and tiles are clear errors, not crashes', async (t) => {
    const model = await tinyModel('onevision');
    await using ctx = await model.createContext({ contextSize: 1024 });
    const n = model.info.nEmbd;
    const text = imagePrompt(model);
    const ok = { data: new Float32Array(4 * n), nTokens: 4 };
    await t.rejects(
        ctx.evaluate({ prompt: { text, embeddings: [{ data: new Float32Array(3), nTokens: 4 }] } }),
        /has 3 values; 4 tokens/,
    );
    await t.rejects(
        ctx.evaluate({ prompt: { text, embeddings: [{ data: new Float32Array(n), nTokens: 0 }] } }),
        /nTokens must be at least 1/,
    );
    const nan = new Float32Array(4 * n);
    nan[5] = NaN;
    await t.rejects(ctx.evaluate({ prompt: { text, embeddings: [{ data: nan, nTokens: 4 }] } }), /NaN or infinite/);
    await t.rejects(
        ctx.evaluate({ prompt: { text, embeddings: [{ data: [1, 2] as never, nTokens: 1 }] } }),
        /must be a Float32Array/,
    );
    await t.rejects(ctx.evaluate({ prompt: { text, embeddings: [ok, ok] } }), /different number of media markers/);
    await t.rejects(
        ctx.evaluate({ prompt: { text, images: [patternImage(8, 8)], embeddings: [ok] } }),
        /either 'images' or 'embeddings'/,
    );
    await t.rejects(
        ctx.evaluate({ prompt: { text: `USER: ${model.info.mediaMarker}`, embeddings: [ok] }, logits: true }),
        /must end with text after the last embeddings/,
    );
    await t.rejects(ctx.encodeImages([patternImage(60, 60)]), /became 5 encoder inputs/);
    await t.rejects(ctx.encodeImages([]), /is empty/);
    await t.rejects(ctx.encodeImages([{ data: new Uint8Array(5), width: 2, height: 2 }]), /packed RGB needs 12/);
    const controller = new AbortController();
    controller.abort();
    await t.rejects(ctx.encodeImages([patternImage(8, 8)], { signal: controller.signal }), { name: 'AbortError' });
    // still usable afterwards
    const r = await ctx.evaluate({ prompt: { text, embeddings: [ok] }, logits: true });
    t.equal(r.imageTokens, 4);
});
