import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { ModelLoadError } from '../lib/runtime/errors.js';
import { VisionModel } from '../lib/runtime/VisionModel.js';
import { closeAllModels, imagePrompt, patternImage, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

/** After every failure the process must still run inference. */
async function stillWorks(t: Test) {
    const model = await tinyModel('llava15');
    await using ctx = await model.createContext({ contextSize: 512 });
    const r = await ctx.generate({
        prompt: { text: imagePrompt(model), images: [patternImage(8, 8)] },
        seed: 1,
        maxTokens: 2,
    });
    t.ok(r.tokens.length > 0, 'the process is alive and inference still works');
}

t.test('a missing model file is a clear error', async (t) => {
    await t.rejects(VisionModel.load({ model: '/nonexistent/model.gguf' }), {
        name: 'ModelLoadError',
        message: /does not exist/,
    });
    await stillWorks(t);
});

t.test('a non-GGUF model file is a clear error', async (t) => {
    const dir = t.testdir({ 'model.gguf': 'this is not a gguf file at all, just text' });
    await t.rejects(VisionModel.load({ model: join(dir, 'model.gguf') }), {
        message: /not a valid GGUF file.*not a GGUF file/s,
    });
    await stillWorks(t);
});

t.test('a truncated GGUF model file is a clear error', async (t) => {
    const pair = await cachedTestModel('llava15');
    const dir = t.testdir({});
    const bytes = await readFile(pair.model);
    for (const cut of [10, 200, Math.floor(bytes.length / 2), bytes.length - 7]) {
        const path = join(dir, `cut-${cut}.gguf`);
        await writeFile(path, bytes.subarray(0, cut));
        await t.rejects(VisionModel.load({ model: path, mmproj: pair.mmproj }), ModelLoadError, `cut at ${cut} bytes`);
    }
    await stillWorks(t);
});

t.test('a truncated mmproj is a clear error', async (t) => {
    const pair = await cachedTestModel('llava15');
    const dir = t.testdir({});
    const bytes = await readFile(pair.mmproj);
    const path = join(dir, 'mmproj.gguf');
    await writeFile(path, bytes.subarray(0, bytes.length - 100));
    await t.rejects(VisionModel.load({ model: pair.model, mmproj: path }), {
        name: 'ModelLoadError',
        message: /mmproj/,
    });
    await stillWorks(t);
});

t.test('an mmproj that does not fit the text model is a clear error', async (t) => {
    const text = await cachedTestModel('llava15');
    const vision = await cachedTestModel('onevision');
    await t.rejects(VisionModel.load({ model: text.model, mmproj: vision.mmproj }), {
        name: 'ModelLoadError',
        message: /wide/,
    });
    await stillWorks(t);
});

t.test('the native loader itself reports a bad mmproj without aborting', async (t) => {
    // Bypasses the TypeScript pre-checks: the C++ layer must fail cleanly on its own.
    const { loadAddon } = await import('../lib/bindings/loadAddon.js');
    const text = await cachedTestModel('llava15');
    const dir = t.testdir({ 'junk.gguf': 'GGUF but not really' });
    await t.rejects(loadAddon().loadModel({ modelPath: text.model, mmprojPath: join(dir, 'junk.gguf') }), {
        message: /failed to load mmproj/,
    });
    await t.rejects(loadAddon().loadModel({ modelPath: join(dir, 'junk.gguf') }), { message: /failed to load model/ });
    await t.rejects(loadAddon().loadModel({ modelPath: '/nope.gguf' }), { message: /cannot open model file/ });
    await stillWorks(t);
});

t.test('an empty (0-pixel) image is a clear error', async (t) => {
    const model = await tinyModel('llava15');
    await using ctx = await model.createContext({ contextSize: 512 });
    const prompt = imagePrompt(model);
    await t.rejects(
        ctx.generate({ prompt: { text: prompt, images: [{ data: new Uint8Array(0), width: 0, height: 0 }] } }),
        { message: /empty \(0x0 pixels\)/ },
    );
    await t.rejects(
        ctx.generate({ prompt: { text: prompt, images: [{ data: new Uint8Array(5), width: 2, height: 2 }] } }),
        { message: /needs 12/ },
    );
    await t.rejects(ctx.generate({ prompt: { text: prompt, images: [] } }), { message: /media markers/ });
    await t.rejects(ctx.generate({ prompt: { text: 'no marker', images: [patternImage(4, 4)] } }), {
        message: /media markers/,
    });
    await stillWorks(t);
});

t.test('bad options are clear errors before llama.cpp sees them', async (t) => {
    const model = await tinyModel('llava15');
    await t.rejects(model.createContext({ contextSize: 512, batchSize: 4096 }), {
        name: 'RangeError',
        message: /batchSize/,
    });
    await t.rejects(model.createContext({ contextSize: 512, batchSize: 64, ubatchSize: 128 }), {
        message: /ubatchSize/,
    });
    await using ctx = await model.createContext({ contextSize: 256, batchSize: 32 });
    await t.rejects(ctx.generate({ prompt: { text: 'x'.repeat(5000) }, maxTokens: 1 }), { message: /does not fit/ });
    await t.rejects(
        ctx.generate({ prompt: { text: imagePrompt(model), images: [patternImage(4, 4)] }, grammar: 'root ::= (' }),
        { message: /invalid GBNF grammar/ },
    );
    await t.rejects(ctx.generate({ prompt: { tokens: [1, 2, 999999] } }), { message: /outside the vocabulary/ });
    await t.rejects(ctx.generate({ prompt: { text: 'hi' }, sequence: 3 }), { message: /sequence|between/ });
    await t.rejects(ctx.generate({ prompt: { text: 'hi' }, temperature: Number.NaN }), { message: /temperature/ });
    t.throws(() => model.detokenize([-1]), /outside the vocabulary/);
    // A prompt longer than n_batch is split into n_batch pieces: llama_decode's n_batch assertion never fires.
    const long = await ctx.generate({
        prompt: { text: imagePrompt(model, 'word '.repeat(20)), images: [patternImage(16, 16)] },
        maxTokens: 2,
        seed: 1,
    });
    t.ok(long.forwardPasses.prefill > 1, `prefill took ${long.forwardPasses.prefill} batches of 32`);
    await stillWorks(t);
});

t.test('closing twice is harmless, and a closed object says so', async (t) => {
    const pair = await cachedTestModel('onevision');
    const model = await VisionModel.load({ model: pair.model, mmproj: pair.mmproj });
    const ctx = await model.createContext({ contextSize: 512 });
    await ctx.close();
    await ctx.close();
    await t.rejects(ctx.generate({ prompt: { text: 'hi' } }), { name: 'ClosedError' });
    await model.close();
    await model.close();
    await t.rejects(model.createContext(), { name: 'ClosedError' });
    t.throws(() => model.tokenize('hi'), { name: 'ClosedError' });
});

t.test('closing a model while its context generates stops the generation cleanly', async (t) => {
    const pair = await cachedTestModel('onevision');
    const model = await VisionModel.load({ model: pair.model, mmproj: pair.mmproj });
    const ctx = await model.createContext({ contextSize: 2048 });
    let closing: Promise<void> | undefined;
    const r = await ctx.generate({
        prompt: { text: imagePrompt(model), images: [patternImage(16, 16)] },
        seed: 1,
        temperature: 1,
        maxTokens: 1000,
        onToken: () => {
            closing ??= model.close();
        },
    });
    await closing;
    t.ok(['abort', 'eog', 'maxTokens'].includes(r.stopReason), `stopped: ${r.stopReason}`);
    t.equal(ctx.closed, true);
});

t.test(
    'objects dropped without close are freed by the garbage collector without a crash',
    { skip: typeof global.gc !== 'function' && 'needs --expose-gc' },
    async (t) => {
        const pair = await cachedTestModel('llava15');
        for (let i = 0; i < 3; i++) {
            const model = await VisionModel.load({ model: pair.model, mmproj: pair.mmproj });
            await model.createContext({ contextSize: 256 });
        }
        global.gc!();
        await new Promise((r) => setTimeout(r, 50));
        global.gc!();
        await stillWorks(t);
    },
);

t.test('a copy of a model file loads (paths with no special meaning)', async (t) => {
    const pair = await cachedTestModel('llava15');
    const dir = t.testdir({});
    await copyFile(pair.model, join(dir, 'weights with spaces.gguf'));
    const m = await VisionModel.load({ model: join(dir, 'weights with spaces.gguf') });
    t.equal(m.info.hasVision, false, 'text only without an mmproj');
    await t.rejects(
        (async () => {
            await using ctx = await m.createContext({ contextSize: 256 });
            await ctx.generate({ prompt: { text: 'x', images: [patternImage(2, 2)] } });
        })(),
        { message: /without an mmproj/ },
    );
    await m.close();
});
