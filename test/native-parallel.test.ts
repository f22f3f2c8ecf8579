import t from 'tap';
import { loadAddon } from '../lib/bindings/loadAddon.js';
import { FAMILIES, closeAllModels, imagePrompt, patternImage, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

for (const family of FAMILIES) {
    t.test(`${family}: sequences decoded in one batch give what each gives alone`, async (t) => {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 1024, sequences: 3 });
        const requests = [1, 2, 3].map((seed) => ({
            prompt: { text: imagePrompt(model), images: [patternImage(24, 24, seed)] },
            seed,
            temperature: 0,
            maxTokens: 16,
        }));
        const together = await ctx.generateMany(requests);
        for (const [i, r] of requests.entries()) {
            const alone = await ctx.generate({ ...r, sequence: 0 });
            t.same([...together[i]!.tokens], [...alone.tokens], `request ${i}`);
        }
        const steps = Math.max(...together.map((r) => r.forwardPasses.decode));
        t.ok(steps <= 16, `${steps} batched decode steps for 3 x 16 tokens`);
    });

    t.test(`${family}: concurrent calls on one context queue safely`, async (t) => {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 512 });
        const prompt = { text: imagePrompt(model), images: [patternImage(16, 16)] };
        const results = await Promise.all([1, 2, 3, 4].map((seed) => ctx.generate({ prompt, seed, maxTokens: 6 })));
        t.equal(results.length, 4);
        for (const r of results) t.ok(r.tokens.length > 0);
    });
}

t.test('the native context refuses a second operation while one runs', async (t) => {
    const model = await tinyModel('llava15');
    const native = await model.native.createContext({ contextSize: 512 });
    const first = native.generate([
        { prompt: { text: imagePrompt(model), images: [patternImage(16, 16)] }, maxTokens: 50 },
    ]);
    t.throws(() => native.generate([{ prompt: { text: 'x' }, maxTokens: 1 }]), /busy/);
    t.throws(() => native.clearSequence(0), /busy/);
    await first;
    const abort = new (loadAddon().AbortHandle)();
    abort.abort();
    const [r] = await native.generate([{ prompt: { text: 'hello' }, maxTokens: 5, abort }]);
    t.equal(r!.stopReason, 'abort', 'an already raised abort stops before the first token');
    native.close();
});

t.test('an image prefix evaluated once can be shared by several sequences', async (t) => {
    const model = await tinyModel('onevision');
    await using ctx = await model.createContext({ contextSize: 1024, sequences: 2 });
    const image = patternImage(24, 24, 4);
    const prefix = await ctx.evaluate({
        prompt: { text: `x ${model.info.mediaMarker}`, images: [image] },
        sequence: 0,
    });
    await ctx.copySequence(0, 1);
    const [a, b] = await ctx.generateMany([
        { prompt: { text: ' policy A' }, sequence: 0, keepPrefix: prefix.nPast, temperature: 0, maxTokens: 8 },
        { prompt: { text: ' policy B' }, sequence: 1, keepPrefix: prefix.nPast, temperature: 0, maxTokens: 8 },
    ]);
    const full = await ctx.generate({
        prompt: { text: `x ${model.info.mediaMarker} policy A`, images: [image] },
        sequence: 0,
        temperature: 0,
        maxTokens: 8,
    });
    t.same([...a!.tokens], [...full.tokens], 'prefix + suffix = the whole prompt');
    t.ok(b!.tokens.length > 0);
    t.equal(a!.imageTokens, 0, 'the image was not encoded again');
});
