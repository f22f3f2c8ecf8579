import t from 'tap';
import type { GenerateResult } from '../lib/runtime/context-types.js';
import {
    FAMILIES,
    JSON_OBJECT_GRAMMAR,
    closeAllModels,
    imagePrompt,
    patternImage,
    tinyModel,
} from './helpers/models.js';

t.teardown(closeAllModels);

for (const family of FAMILIES) {
    t.test(`${family}: loads the text model and its mmproj together`, async (t) => {
        const model = await tinyModel(family);
        t.equal(model.info.hasVision, true);
        t.ok(model.info.nVocab > 256, 'vocabulary has all byte tokens');
        t.equal(model.info.metadata['llavaguard.family'], family);
    });

    t.test(`${family}: an image and a prompt are evaluated into the context`, async (t) => {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 1024 });
        const r = await ctx.evaluate({ prompt: { text: imagePrompt(model), images: [patternImage(64, 48)] } });
        t.ok(r.imageTokens > 0, `image became ${r.imageTokens} tokens`);
        t.ok(r.promptTokens > r.imageTokens, 'text tokens around it');
        t.equal(r.nPast, r.promptTokens, 'positions advance by the tokens evaluated');
    });

    t.test(`${family}: a JSON grammar gives valid JSON on 50 seeds`, async (t) => {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 1024 });
        const image = patternImage(32, 32, 3);
        let valid = 0;
        for (let seed = 0; seed < 50; seed++) {
            const r = await ctx.generate({
                prompt: { text: imagePrompt(model), images: [image] },
                grammar: JSON_OBJECT_GRAMMAR,
                seed,
                temperature: 1,
                maxTokens: 200,
            });
            try {
                const v = JSON.parse(r.text);
                if (typeof v === 'object' && v !== null && r.stopReason === 'eog') valid++;
                else t.fail(`seed ${seed}: ${r.stopReason}: ${r.text}`);
            } catch {
                t.fail(`seed ${seed}: not JSON (${r.stopReason}): ${JSON.stringify(r.text)}`);
            }
        }
        t.equal(valid, 50);
    });

    t.test(`${family}: the same seed gives the same tokens, another seed other tokens`, async (t) => {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 1024 });
        const prompt = { text: imagePrompt(model), images: [patternImage(40, 40, 1)] };
        const run = (seed: number) => ctx.generate({ prompt, seed, temperature: 1.5, topK: 0, topP: 1, maxTokens: 24 });
        const a = await run(7);
        const b = await run(7);
        t.same([...a.tokens], [...b.tokens]);
        const others = await Promise.all([8, 9, 10].map(run));
        t.ok(
            others.some((o) => o.tokens.join() !== a.tokens.join()),
            'other seeds sample differently',
        );
    });

    t.test(`${family}: two different images give different logits for the first generated token`, async (t) => {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 1024 });
        const logitsFor = async (seed: number) =>
            (
                await ctx.evaluate({
                    prompt: { text: imagePrompt(model), images: [patternImage(48, 48, seed)] },
                    logits: true,
                })
            ).logits!;
        const a = await logitsFor(1);
        const b = await logitsFor(2);
        const a2 = await logitsFor(1);
        t.equal(a.length, model.info.nVocab);
        t.same(a, a2, 'the same image gives the same logits');
        let maxDiff = 0;
        for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
        t.ok(maxDiff > 1e-4, `logits differ by up to ${maxDiff}`);
    });

    t.test(`${family}: streamed tokens concatenate to the final text`, async (t) => {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 1024 });
        const pieces: string[] = [];
        const tokens: number[] = [];
        let done: GenerateResult | undefined;
        for await (const ev of ctx.stream({
            prompt: { text: imagePrompt(model), images: [patternImage(20, 30)] },
            seed: 1,
            temperature: 1,
            maxTokens: 40,
        })) {
            if (ev.type === 'token') {
                pieces.push(ev.text);
                tokens.push(ev.token);
            } else done = ev.result;
        }
        t.ok(done);
        t.equal(pieces.join(''), done!.text);
        t.same(tokens, [...done!.tokens]);
        t.ok(tokens.length > 0);
    });

    t.test(`${family}: abort after k tokens stops within one token and the context is reusable`, async (t) => {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 1024 });
        const prompt = { text: imagePrompt(model), images: [patternImage(30, 30)] };
        for (const k of [1, 3, 8]) {
            const controller = new AbortController();
            let seen = 0;
            const r = await ctx.generate({
                prompt,
                seed: 5,
                temperature: 1,
                maxTokens: 200,
                signal: controller.signal,
                onToken: () => {
                    if (++seen === k) controller.abort();
                },
            });
            t.equal(r.stopReason, 'abort', `k=${k}: stopped by the abort`);
            t.ok(r.tokens.length >= k && r.tokens.length <= k + 1, `k=${k}: ${r.tokens.length} tokens`);
        }
        const after = await ctx.generate({ prompt, seed: 5, temperature: 1, maxTokens: 10 });
        t.equal(after.tokens.length > 0, true, 'generation works after aborts');
    });

    t.test(`${family}: images of 1x1 and 2x5000 pixels are processed like any other`, async (t) => {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 4096 });
        for (const [w, h] of [
            [1, 1],
            [2, 5000],
            [5000, 2],
        ] as const) {
            const r = await ctx.generate({
                prompt: { text: imagePrompt(model), images: [patternImage(w, h)] },
                seed: 1,
                maxTokens: 4,
            });
            t.ok(r.imageTokens > 0, `${w}x${h}: ${r.imageTokens} image tokens`);
        }
    });

    t.test(`${family}: a Q8_0-quantized model runs (no AMX trap)`, async (t) => {
        const model = await tinyModel(family, 'q8_0');
        await using ctx = await model.createContext({ contextSize: 1024 });
        const r = await ctx.generate({
            prompt: { text: imagePrompt(model), images: [patternImage(32, 32)] },
            seed: 2,
            maxTokens: 8,
        });
        t.ok(r.tokens.length > 0);
    });
}
