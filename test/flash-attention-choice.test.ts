import t from 'tap';

import { loadAddon } from '../lib/bindings/loadAddon.js';
import {
    pickFlashAttention,
    resolveFlashAttention,
    textAttentionShape,
    textWorkload,
    visionAttentionShape,
    visionWorkload,
} from '../lib/runtime/flash-attention-choice.js';
import { readGgufFile } from '../gguf/reader.js';
import { closeAllModels, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

const textCase = { headDim: 64, heads: 14, kvHeads: 2, queries: 64, keys: 256, layout: 'kv-cache' as const };
const visionCase = { headDim: 72, heads: 16, queries: 100, keys: 100, layout: 'vision' as const };

t.test('probeAttention times the text and the vision attention with and without flash attention', async (t) => {
    const cases = [textCase, visionCase].flatMap((c) => [
        { ...c, flashAttention: true },
        { ...c, flashAttention: false },
    ]);
    const ms = await loadAddon().probeAttention({ cases, threads: 1, repeats: 1 });
    t.equal(ms.length, 4);
    for (const v of ms) t.ok(Number.isFinite(v) && v > 0, `${v} ms`);
});

t.test('probeAttention rejects impossible cases with a clear error instead of reaching ggml', async (t) => {
    const addon = loadAddon();
    const bad: Array<[string, object, RegExp]> = [
        ['kvHeads not dividing heads', { ...textCase, kvHeads: 3 }, /kvHeads must divide heads/],
        ['more queries than keys', { ...textCase, queries: 300 }, /queries <= keys/],
        ['vision with queries != keys', { ...visionCase, keys: 120 }, /queries == keys/],
        ['vision with grouped heads', { ...visionCase, kvHeads: 4 }, /kvHeads == heads/],
        ['a huge case', { ...textCase, heads: 1024, kvHeads: 1024, queries: 100000, keys: 100000 }, /1 GiB|between/],
        ['an unknown layout', { ...textCase, layout: 'paged' }, /layout/],
        ['a missing size', { heads: 2, queries: 1, keys: 1, layout: 'vision' }, /headDim/],
        ['a fractional size', { ...textCase, queries: 1.5 }, /integer/],
    ];
    for (const [what, c, re] of bad) {
        await t.rejects(
            async () => addon.probeAttention({ cases: [{ ...c, flashAttention: false } as never] }),
            re,
            what,
        );
    }
    await t.rejects(async () => addon.probeAttention({ cases: [] }), /1\.\.64/, 'no cases');
    await t.rejects(async () => addon.probeAttention({ cases: 'x' as never }), /array/, 'not an array');
    await t.rejects(
        async () => addon.probeAttention({ cases: [{ ...textCase, flashAttention: false }], threads: 0 }),
        /threads/,
        'zero threads',
    );
});

t.test('the text workload is the prompt in ubatches plus the decode steps at depth', async (t) => {
    const shape = { headDim: 64, heads: 14, kvHeads: 2, layers: 24 };
    const w = textWorkload(shape, { promptTokens: 1857, generatedTokens: 64, ubatch: 512 });
    t.same(
        w.map((c) => [c.probe.queries, c.probe.keys, c.times]),
        [
            [512, 512, 1],
            [512, 1024, 1],
            [512, 1536, 1],
            [321, 1857, 1],
            [1, 1889, 64],
        ],
    );
    const tiny = textWorkload(shape, { promptTokens: 1857, generatedTokens: 0, ubatch: 1 });
    t.ok(tiny.length <= 16, `a 1-token ubatch is priced in at most 16 pieces (${tiny.length})`);
    t.equal(
        tiny.reduce((n, c) => n + c.probe.queries, 0),
        1857,
        'every prompt token is priced once',
    );
    t.same(visionWorkload(shape, 729)[0]!.probe, {
        headDim: 64,
        heads: 14,
        kvHeads: 14,
        queries: 729,
        keys: 729,
        layout: 'vision',
    });
});

t.test('flash attention is picked only where it saves at least 5% and 50 ms', async (t) => {
    t.equal(pickFlashAttention(1000, 2000), 'on');
    t.equal(pickFlashAttention(2000, 1000), 'off');
    t.equal(pickFlashAttention(1000, 1000), 'off', 'a tie keeps it off');
    t.equal(pickFlashAttention(970, 1000), 'off', 'within 5%');
    t.equal(pickFlashAttention(5, 40), 'off', 'a tiny model: 35 ms are noise');
});

t.test("the caller's option wins, a GPU keeps llama.cpp's auto, a failed probe falls back to off", async (t) => {
    const never = async () => {
        throw new Error('must not be called');
    };
    t.same(await resolveFlashAttention('on', false, never), { value: 'on', source: 'option' });
    t.same(await resolveFlashAttention(undefined, true, never), { value: 'auto', source: 'gpu' });
    t.same(await resolveFlashAttention(undefined, false, never), { value: 'off', source: 'default' });
    t.same(await resolveFlashAttention(undefined, false, undefined), { value: 'off', source: 'default' });
});

for (const family of ['llava15', 'onevision'] as const) {
    t.test(`${family}: the attention shapes are read from the GGUF headers`, async (t) => {
        const model = await tinyModel(family);
        const text = textAttentionShape(await readGgufFile(model.info.modelPath));
        t.ok(text, 'text shape');
        t.equal(text!.layers, model.info.nLayer);
        t.equal(text!.headDim * text!.heads, model.info.nEmbd);
        const vision = visionAttentionShape(await readGgufFile(model.info.mmprojPath));
        t.ok(vision, 'vision shape');
        const side = model.vision!.imageSize / model.vision!.patchSize;
        t.equal(
            vision!.patches,
            side * side + (model.vision!.hasClassEmbedding ? 1 : 0),
            'patches per tile (+ class token)',
        );
    });

    t.test(`${family}: without an option the CPU choice is measured for the encoder and the text model`, async (t) => {
        const model = await tinyModel(family);
        const m = model.mmprojFlashAttention!;
        t.equal(m.source, 'measured');
        t.equal(m.value, pickFlashAttention(m.msWith!, m.msWithout!), 'the cheaper one');
        await using ctx = await model.createContext({ contextSize: 1024 });
        const c = ctx.flashAttention;
        t.equal(c.source, 'measured');
        t.ok(c.msWith! > 0 && c.msWithout! > 0);
        t.equal(c.value, pickFlashAttention(c.msWith!, c.msWithout!));
        await using fixed = await model.createContext({ contextSize: 1024, flashAttention: 'off' });
        t.same(fixed.flashAttention, { value: 'off', source: 'option' });
        await using quantized = await model.createContext({ contextSize: 1024, cacheType: 'q8_0' });
        t.same(
            quantized.flashAttention,
            { value: 'auto', source: 'default' },
            'a quantized V cache needs llama.cpp to decide',
        );
    });
}
