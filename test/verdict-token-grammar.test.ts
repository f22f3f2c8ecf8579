import t from 'tap';
import { Policy } from '../lib/policy/index.js';
import {
    buildVerdictTokenGrammar,
    parseVerdict,
    verdictDrafts,
    verdictLayouts,
    VERDICT_CLOSE_WITHOUT_RATIONALE,
} from '../lib/verdict/index.js';
import { FAMILIES, closeAllModels, imagePrompt, patternImage, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

const policy = Policy.default('v1.2');

t.test(
    'the token grammar spells each answer in a prefix tree of token elements, with one rule where answers part',
    async (t) => {
        // A tokenizer of one token per character: the tree's forks are exactly where the layout texts differ.
        const tokenize = (s: string) => [...s].map((c) => c.codePointAt(0)!);
        const g = buildVerdictTokenGrammar(['O1: A', 'O2: B', 'NA: None applying'], tokenize, {
            maxRationaleChars: 20,
        });
        const rules = g.trim().split('\n');
        const layoutRules = rules.filter((r) => r.startsWith('layout-'));
        // the shared start, the rating fork (S / U), under Safe the category fork ("O" / "N") and the digit fork,
        // under Unsafe the digit fork alone (an Unsafe verdict never names NA)
        t.equal(layoutRules.length, 1 + 1 + 2 + 1, g);
        t.match(rules[0], /^root ::= layout-0$/);
        t.match(
            g,
            `layout-0 ::= ${[...'{\n    "rating": "'].map((c) => `<[${c.codePointAt(0)}]>`).join(' ')} layout-1\n`,
        );
        t.match(g, /rationale-field ::= rationale "\\"\\n\}"/);
        t.match(g, /rationale ::= json-char\{0,20\}/);
        t.notMatch(g, `${/rationale-field/.source}.*rationale-field`, 'the tail is referenced, not copied');
        const noRationale = buildVerdictTokenGrammar(['O1: A'], tokenize, { rationale: false });
        t.notMatch(noRationale, /rationale/);
    },
);

t.test('the token grammar rejects a tokenizer that gives nothing, and bad bounds, with clear errors', async (t) => {
    t.throws(() => buildVerdictTokenGrammar(policy, () => []), /no valid tokens/);
    t.throws(() => buildVerdictTokenGrammar(policy, () => [1.5]), /no valid tokens/);
    t.throws(() => buildVerdictTokenGrammar(policy, undefined as never), /tokenizer/);
    t.throws(() => buildVerdictTokenGrammar([], (s) => [...s].map((c) => c.charCodeAt(0))), /at least one category/);
    t.throws(
        () => buildVerdictTokenGrammar(policy, (s) => [...s].map((c) => c.charCodeAt(0)), { maxRationaleChars: 5000 }),
        /maxRationaleChars/,
    );
});

for (const family of FAMILIES) {
    t.test(
        `${family}: under the token grammar the layout is the tokenizer's own tokens, forced without forward passes, and token for token what llama.cpp's chain gives`,
        async (t) => {
            const model = await tinyModel(family);
            const tokenize = (s: string) => model.tokenize(s, { addSpecial: false, parseSpecial: false });
            await using ctx = await model.createContext({ contextSize: 4096, ubatchSize: 1 });
            const prompt = { text: imagePrompt(model), images: [patternImage(24, 24, 9)] };
            const full = buildVerdictTokenGrammar(policy, tokenize, { maxRationaleChars: 40 });
            const short = buildVerdictTokenGrammar(policy, tokenize, { rationale: false });
            const layouts = verdictLayouts(policy, true);
            const cases = [
                [0, 0],
                [1, 0.7],
                [2, 1],
                [3, 1.5],
                [4, 1],
            ] as const;
            for (const [seed, temperature] of cases) {
                for (const [name, grammar, rationale] of [
                    ['full', full, true],
                    ['rationale: false', short, false],
                ] as const) {
                    const settings = { prompt, seed, temperature, maxTokens: 200, grammar };
                    const plain = await ctx.generate({ ...settings, referenceSampler: true });
                    const ours = await ctx.generate({ ...settings, jumpForward: false });
                    const jump = await ctx.generate({ ...settings, drafts: verdictDrafts(policy, { rationale }) });
                    const label = `${name}, seed ${seed}, temperature ${temperature}`;
                    t.same([...ours.tokens], [...plain.tokens], `${label}: our sampler = llama.cpp's chain`);
                    t.same([...jump.tokens], [...plain.tokens], `${label}: same tokens with jump-forward and drafts`);
                    const layout = layouts.find((l) =>
                        jump.text
                            .trimStart()
                            .startsWith(rationale ? l : l.slice(0, l.indexOf('",\n    "rationale"') + 1)),
                    );
                    t.ok(layout, `${label}: the text starts with one answer's layout`);
                    const text = rationale ? layout! : layout!.slice(0, layout!.indexOf('",\n    "rationale"') + 1);
                    const canonical = [...tokenize(text)];
                    t.same(
                        [...jump.tokens.slice(0, canonical.length)],
                        canonical,
                        `${label}: the layout in the tokenizer's tokens`,
                    );
                    const verdict = parseVerdict(
                        rationale ? jump.text : jump.text + VERDICT_CLOSE_WITHOUT_RATIONALE,
                        policy,
                    );
                    t.equal(verdict.parsedBy, 'json');
                    t.ok(policy.categoryStrings.includes(verdict.category!));
                    if (!rationale) {
                        // every layout token is forced except where the answers part (the rating, the category's
                        // first token, its number), and the end is not sampled once the grammar is complete
                        t.ok(
                            jump.forwardPasses.decode <= 3,
                            `${label}: ${jump.forwardPasses.decode} forward passes for ${jump.tokens.length} tokens`,
                        );
                        t.equal(jump.stopReason, 'eog');
                    }
                }
            }
        },
    );

    t.test(
        `${family}: a grammar state open to a token element and to characters allows both, as llama.cpp's chain does`,
        async (t) => {
            const model = await tinyModel(family);
            await using ctx = await model.createContext({ contextSize: 2048, ubatchSize: 1 });
            // a multi-character token whose text starts with another byte than the literal alternative "q"
            const tokenize = (s: string) => [...model.tokenize(s, { addSpecial: false, parseSpecial: false })];
            const candidates = ['Safe', 'rating', 'category', 'None', 'the', ' the', 'ing']
                .map((s) => tokenize(s))
                .filter((ids) => ids.length === 1);
            const token = candidates
                .map((ids) => ids[0]!)
                .find((id) => !model.detokenize([id]).startsWith('q') && model.detokenize([id]).length > 1);
            t.ok(
                token !== undefined && token >= 2048,
                `a multi-character token beyond the sampler's probe of the first ids (${token})`,
            );
            const grammar = `root ::= (<[${token}]> | "q") [a-z]{0,3}\n`;
            const prompt = { text: imagePrompt(model), images: [patternImage(16, 16, 4)] };
            const seen = new Set<string>();
            for (let seed = 0; seed < 24; seed++) {
                const settings = { prompt, seed, temperature: 20, topK: 0, topP: 1, maxTokens: 8, grammar };
                const plain = await ctx.generate({ ...settings, referenceSampler: true });
                const jump = await ctx.generate(settings);
                t.same([...jump.tokens], [...plain.tokens], `seed ${seed}`);
                seen.add(jump.tokens[0] === token ? 'token' : 'char');
            }
            t.same([...seen].sort(), ['char', 'token'], 'both alternatives were sampled');
        },
    );
}
