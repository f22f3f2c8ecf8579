// The encoded image as a native handle: the rows stay in native memory from encodeImages to the prefill, the
// OneVision packing done there equals the JS reference bit for bit, and a disposed handle is refused clearly.
import t from 'tap';

import { ImagePipeline, releasePreparedImage } from '../lib/pipeline/index.js';
import { packFeatures, planOneVision, oneVisionResizedImages, windowToRgb } from '../lib/preprocess/index.js';
import { closeAllModels, imagePrompt, patternImage, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

const firstDifference = (a: Float32Array, b: Float32Array) => {
    if (a.length !== b.length) return -2;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
    return -1;
};

t.test(
    'encodeImageHandles keeps the rows native; a prompt takes the handle and gives the copied rows logits',
    async (t) => {
        const model = await tinyModel('onevision');
        await using ctx = await model.createContext({ contextSize: 1024 });
        const side = model.vision!.imageSize;
        const tile = patternImage(side, side, 4);
        const [h] = await ctx.encodeImageHandles([tile]);
        const handle = h!.embeddings;
        t.equal(handle.nTokens, h!.nTokens);
        t.equal(handle.nEmbd, model.info.nEmbd);
        t.equal(handle.byteLength, handle.nTokens * handle.nEmbd * 4);
        t.notOk(Object.keys(handle).includes('data'), 'no rows as an own property: data is a copying accessor');
        const [copied] = await ctx.encodeImages([tile]);
        t.equal(firstDifference(handle.data, copied!.embeddings), -1, 'the data accessor copies the same rows');
        const text = imagePrompt(model);
        const viaHandle = await ctx.evaluate({ prompt: { text, embeddings: [handle] }, logits: true });
        const viaArray = await ctx.evaluate({
            prompt: { text, embeddings: [{ data: copied!.embeddings, nTokens: copied!.nTokens }] },
            logits: true,
        });
        t.equal(firstDifference(viaHandle.logits!, viaArray.logits!), -1, 'bit-identical logits');
        handle.dispose();
        t.ok(handle.disposed);
        t.equal(handle.byteLength, 0);
        handle.dispose(); // twice is harmless
        await t.rejects(ctx.evaluate({ prompt: { text, embeddings: [handle] } }), /embeddings\[0\] was disposed/);
        t.throws(() => handle.data, /disposed/);
    },
);

t.test('the native OneVision packing equals packFeatures bit for bit, with and without downsampling', async (t) => {
    const model = await tinyModel('onevision');
    const pipeline = await ImagePipeline.create(model);
    const config = pipeline.choice.onevision!;
    await using ctx = await model.createContext({ contextSize: 1024 });
    const { readImageNewline } = await import('../lib/pipeline/index.js');
    const newline = (await readImageNewline(model.info.mmprojPath, model.info.nEmbd))!;
    let downsampled = 0;
    for (const size of ['29x28', '60x30', '100x100', '57x171', '200x150', '3x500']) {
        const [w, h] = size.split('x').map(Number) as [number, number];
        const rgb = { ...patternImage(w, h, 7), channels: 3 as const, source: 'test' };
        const plan = planOneVision({ width: w, height: h }, config);
        if (plan.downsampled) downsampled++;
        const { resized, overview } = oneVisionResizedImages(rgb, plan, config);
        const tiles = plan.tiles.map((tl) =>
            windowToRgb(resized, tl.x - plan.padOffset.x, tl.y - plan.padOffset.y, tl.size),
        );
        const images = [overview, ...tiles].map((i) => ({ data: i.data, width: i.width, height: i.height }));
        const arrays = await ctx.encodeImages(images);
        const reference = packFeatures(
            arrays.slice(1).map((e) => e.embeddings),
            arrays[0]!.embeddings,
            newline,
            plan,
        );
        const prepared = await pipeline.prepare(rgb, ctx);
        const packed = prepared.embeddings![0]!;
        t.equal(packed.nTokens, plan.tokens.total);
        t.equal(firstDifference(packed.data, reference), -1, `${w}x${h}: identical packed rows`);
        releasePreparedImage(prepared);
        t.ok((packed as { disposed?: boolean }).disposed, 'released');
    }
    t.ok(downsampled >= 2, `${downsampled} sizes exercise the bilinear downsampling`);
});

t.test('the packing refuses a layout that does not match its handles', async (t) => {
    const model = await tinyModel('onevision');
    await using ctx = await model.createContext({ contextSize: 1024 });
    const side = model.vision!.imageSize;
    const [a, b] = await ctx.encodeImageHandles([patternImage(side, side, 1), patternImage(side, side, 2)]);
    const perSide = Math.sqrt(a!.nTokens);
    const base = {
        overview: a!.embeddings,
        tiles: [b!.embeddings],
        newline: new Float32Array(model.info.nEmbd),
        featuresPerSide: perSide,
        gridCols: 1,
        unpadded: { top: 0, left: 0, h: perSide, w: perSide },
        totalTokens: perSide * perSide + perSide * (perSide + 1),
    };
    const pack = model.addon.packOneVisionFeatures.bind(model.addon);
    t.equal(pack(base).nTokens, base.totalTokens);
    t.throws(() => pack({ ...base, unpadded: { top: 1, left: 0, h: perSide, w: perSide } }), /outside/);
    t.throws(() => pack({ ...base, newline: new Float32Array(3) }), /newline has 3 values/);
    t.throws(() => pack({ ...base, totalTokens: 5 }), /totalTokens disagrees/);
    t.throws(() => pack({ ...base, gridCols: 2 }), /do not fill a grid/);
    t.throws(() => pack({ ...base, tiles: [{} as never] }), /tiles\[0\] must be an ImageEmbeddings handle/);
    b!.embeddings.dispose();
    t.throws(() => pack(base), /tiles\[0\] was disposed/);
    a!.embeddings.dispose();
});
