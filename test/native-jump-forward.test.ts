import t from 'tap';
import { Policy } from '../lib/policy/index.js';
import { buildVerdictGrammar, verdictDrafts } from '../lib/verdict/index.js';
import { FAMILIES, closeAllModels, imagePrompt, patternImage, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

for (const family of FAMILIES) {
    t.test(
        `${family}: jump-forward gives token for token what plain constrained decoding gives, in fewer forward passes`,
        async (t) => {
            const model = await tinyModel(family);
            // ubatchSize 1: llama.cpp then computes a batch one token at a time, so the logits are bit-identical to
            // plain decoding's. (With larger micro-batches the matrix kernels sum in another order: logits differ
            // by ~1e-3, as in any batched llama.cpp decoding, and a sample near a boundary can flip.) The forward
            // passes counted are llama_decode calls, which jump-forward reduces either way.
            await using ctx = await model.createContext({ contextSize: 4096, ubatchSize: 1 });
            const grammar = buildVerdictGrammar(Policy.default('v1.2'), { maxRationaleChars: 30 });
            // a long free-text rationale: the sampler checks only the top candidates against the grammar there
            const longGrammar = buildVerdictGrammar(Policy.default('v1.2'), { maxRationaleChars: 400 });
            const prompt = { text: imagePrompt(model), images: [patternImage(24, 24, 7)] };
            let plainPasses = 0;
            let jumpPasses = 0;
            let generated = 0;
            const cases = [
                // seeds 0..5, each at its temperature
                ...[0, 0.2, 1, 1, 1.5, 0.7].map((temperature, seed) => ({ seed, temperature, grammar })),
                { seed: 6, temperature: 1, topK: 0, grammar: longGrammar },
                { seed: 7, temperature: 1, topK: 1, grammar: longGrammar },
                { seed: 8, temperature: 1.2, topK: 5, grammar: longGrammar },
                { seed: 9, temperature: 1, topK: 50, topP: 1, grammar: longGrammar },
                { seed: 10, temperature: 0, grammar: longGrammar },
            ];
            for (const { seed, temperature, ...rest } of cases) {
                const settings = { prompt, seed, temperature, maxTokens: 200, ...rest };
                // plain: llama.cpp's own chain (grammar over all logits, then top-k/top-p/temperature/dist)
                const plain = await ctx.generate({ ...settings, referenceSampler: true });
                const ours = await ctx.generate({ ...settings, jumpForward: false });
                const jump = await ctx.generate({ ...settings, jumpForward: true });
                const drafted = await ctx.generate({ ...settings, drafts: verdictDrafts(Policy.default('v1.2')) });
                const label = `seed ${seed}, temperature ${temperature}, topK ${'topK' in rest ? rest.topK : 'default'}`;
                t.same(
                    [...ours.tokens],
                    [...plain.tokens],
                    `${label}: our sampler without jump-forward = llama.cpp's chain`,
                );
                t.same([...jump.tokens], [...plain.tokens], `${label}: same tokens with jump-forward`);
                t.equal(jump.text, plain.text);
                t.same(
                    [...drafted.tokens],
                    [...plain.tokens],
                    `${label}: same tokens with verdict drafts (${drafted.draftTokens.accepted} of ${drafted.draftTokens.proposed} confirmed)`,
                );
                t.ok(drafted.draftTokens.accepted <= drafted.draftTokens.proposed);
                t.equal(plain.forcedTokens, 0);
                t.equal(ours.forcedTokens, 0);
                t.equal(
                    ours.forwardPasses.decode,
                    plain.forwardPasses.decode,
                    'one forward pass per token without jump-forward',
                );
                t.ok(jump.forcedTokens > 0, `${jump.forcedTokens} forced tokens`);
                plainPasses += plain.forwardPasses.decode;
                jumpPasses += jump.forwardPasses.decode;
                generated += jump.tokens.length;
            }
            t.ok(
                jumpPasses < plainPasses,
                `forward passes after the prefill: ${jumpPasses} with jump-forward, ${plainPasses} without, for ${generated} tokens`,
            );
        },
    );

    t.test(`${family}: without a rationale the verdict stops after the category`, async (t) => {
        const model = await tinyModel(family);
        await using ctx = await model.createContext({ contextSize: 4096 });
        const policy = Policy.default('v1.2');
        const grammar = buildVerdictGrammar(policy, { rationale: false });
        const r = await ctx.generate({
            prompt: { text: imagePrompt(model), images: [patternImage(16, 16, 2)] },
            grammar,
            seed: 3,
            temperature: 1,
            maxTokens: 200,
        });
        t.equal(r.stopReason, 'eog');
        t.match(r.text, /^ ?\{\n {4}"rating": "(Safe|Unsafe)",\n {4}"category": "[^"]+"$/);
        t.ok(policy.categoryStrings.some((c) => r.text.endsWith(`"${c}"`)));
        t.ok(
            r.forwardPasses.decode < r.tokens.length,
            `${r.forwardPasses.decode} forward passes for ${r.tokens.length} tokens`,
        );
    });

    t.test(
        `${family}: rejected drafts leave greedy and sampled output unchanged, and a context stops proposing them`,
        async (t) => {
            const model = await tinyModel(family);
            await using ctx = await model.createContext({ contextSize: 4096, ubatchSize: 1 });
            const prompt = { text: imagePrompt(model), images: [patternImage(24, 24, 5)] };
            let proposed = 0;
            for (let run = 0; run < 12; run++) {
                const settings = { prompt, seed: 11 + run, temperature: run % 2, maxTokens: 40 };
                const plain = await ctx.generate({ ...settings, jumpForward: false });
                // Wrong guesses everywhere: every suffix of the output starts one of these.
                const wrong = [...new Set([...plain.text])].map((c) => `${c}zzqx zzqx zzqx`);
                const r = await ctx.generate({ ...settings, drafts: wrong });
                t.same(
                    [...r.tokens],
                    [...plain.tokens],
                    `run ${run}, temperature ${settings.temperature}: same tokens`,
                );
                t.equal(r.draftTokens.accepted, 0);
                t.ok(
                    r.draftTokens.proposed <= 4,
                    `${r.draftTokens.proposed} draft tokens: two short drafts, then none`,
                );
                if (proposed >= 32)
                    t.equal(
                        r.draftTokens.proposed,
                        0,
                        `after ${proposed} unconfirmed draft tokens the context proposes none`,
                    );
                if (run === 0) t.ok(r.draftTokens.proposed > 0, 'drafts proposed on a new context');
                proposed += r.draftTokens.proposed;
            }
            t.ok(proposed >= 32, `${proposed} draft tokens proposed in all`);
        },
    );
}

t.test('drafts the model confirms: a whole run in a few forward passes, token for token plain decoding', async (t) => {
    const model = await tinyModel('onevision');
    await using ctx = await model.createContext({ contextSize: 4096, ubatchSize: 1 });
    // Greedy unconstrained text of a random model often repeats one word. Taken: a run whose own text,
    // tokenized canonically, is what it wrote, as a model trained on a format writes the format's canonical tokens.
    const runs = Array.from({ length: 16 }, (_, image) => ({
        prompt: { text: imagePrompt(model), images: [patternImage(24, 24, image)] },
        seed: 0,
        temperature: 0,
        maxTokens: 60,
    }));
    let settings = runs[0]!;
    let plain = await ctx.generate({ ...settings, jumpForward: false });
    for (const candidate of runs) {
        settings = candidate;
        plain = await ctx.generate({ ...settings, jumpForward: false });
        if (
            [...model.tokenize(plain.text, { addSpecial: false, parseSpecial: false })].join() ===
            [...plain.tokens].join()
        )
            break;
    }
    t.same(
        [...model.tokenize(plain.text, { addSpecial: false, parseSpecial: false })],
        [...plain.tokens],
        'a run written in its canonical tokens',
    );
    t.equal(plain.forwardPasses.decode, plain.tokens.length - 1, 'one forward pass per token without drafts');
    // A new context starts with short drafts and doubles them while they are confirmed whole.
    const first = await ctx.generate({ ...settings, drafts: [plain.text] });
    t.same([...first.tokens], [...plain.tokens], 'same tokens');
    t.equal(first.text, plain.text);
    t.ok(
        first.draftTokens.accepted >= plain.tokens.length - 8,
        `${first.draftTokens.accepted} of ${first.draftTokens.proposed} draft tokens confirmed`,
    );
    t.ok(
        first.forwardPasses.decode <= 8,
        `${first.forwardPasses.decode} forward passes for ${first.tokens.length} tokens`,
    );
    // The context's record now says this model confirms drafts: full-length ones from the start.
    const later = await ctx.generate({ ...settings, drafts: [plain.text] });
    t.same([...later.tokens], [...plain.tokens], 'same tokens');
    t.ok(
        later.forwardPasses.decode < first.forwardPasses.decode,
        `${later.forwardPasses.decode} forward passes on the next run`,
    );
    t.ok(later.forwardPasses.decode <= 3);
    const again = await ctx.generate({ ...settings, drafts: [plain.text], jumpForward: false });
    t.equal(again.draftTokens.proposed, 0, 'no drafts without jump-forward');
    const reference = await ctx.generate({ ...settings, drafts: [plain.text], referenceSampler: true });
    t.equal(reference.draftTokens.proposed, 0, 'no drafts with the reference sampler');
});

t.test('drafts: a bad option is a TypeError or RangeError before anything runs', async (t) => {
    const model = await tinyModel('onevision');
    await using ctx = await model.createContext({ contextSize: 512 });
    const prompt = { text: imagePrompt(model), images: [patternImage(8, 8, 0)] };
    await t.rejects(ctx.generate({ prompt, drafts: 'abc' as unknown as string[] }), {
        name: 'TypeError',
        message: /drafts.*array of strings/,
    });
    await t.rejects(ctx.generate({ prompt, drafts: ['a', 3 as unknown as string] }), {
        name: 'TypeError',
        message: /drafts\[1\]/,
    });
    await t.rejects(ctx.generate({ prompt, drafts: Array.from({ length: 4097 }, () => 'a') }), {
        name: 'RangeError',
        message: /at most 4096/,
    });
    await t.rejects(ctx.generate({ prompt, drafts: ['x'.repeat(64 * 1024 + 1)] }), {
        name: 'RangeError',
        message: /longer than/,
    });
    const ok = await ctx.generate({ prompt, drafts: ['', 'a'], maxTokens: 4, temperature: 0 });
    t.equal(ok.tokens.length, 4, 'empty strings are ignored');
});
