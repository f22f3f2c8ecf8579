// The verdict grammar ties the category to the rating (Unsafe: a category the policy declares violating; Safe:
// any), and score mode's probabilities follow the same rule: P(category | rating) over the categories the grammar
// lets that rating name.
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/tiny-models.js';
import type { OptionScorer } from '../lib/guard/option-scorer.js';
import { scoreVerdict } from '../lib/guard/score-verdict.js';
import { LlavaGuard, Policy } from '../lib/index.js';
import { patternImage } from './helpers/models.js';

const pngOf = (seed: number) => {
    const img = patternImage(16, 16, seed);
    return sharp(Buffer.from(img.data), { raw: { width: 16, height: 16, channels: 3 } })
        .png()
        .toBuffer();
};

// O1..O4 allowed: an Unsafe verdict may name only O5..O9.
const policy = Policy.default('v1.2').allow('O1', 'O2', 'O3', 'O4');

t.test('sampled verdicts never pair Unsafe with NA or an allowed category, under both grammars', async (t) => {
    const guard = await LlavaGuard.load({ ...(await cachedTestModel('onevision')), threads: 1 });
    t.teardown(() => guard.close());
    const image = await pngOf(3);
    const seen = { Safe: 0, Unsafe: 0 };
    for (const layoutTokens of ['canonical', 'any'] as const) {
        for (let seed = 0; seed < 24; seed++) {
            const v = await guard.assess(image, { policy, seed, temperature: 2, rationale: false, layoutTokens });
            seen[v.rating]++;
            if (v.rating === 'Unsafe')
                t.ok(policy.violatingCategoryStrings.includes(v.category!), `${layoutTokens} ${seed}: ${v.category}`);
            else t.ok(policy.categoryStrings.includes(v.category!));
        }
    }
    t.ok(seen.Unsafe > 0 && seen.Safe > 0, `both ratings were sampled (${JSON.stringify(seen)})`);

    const s = await guard.score(image, { policy });
    const zero = Object.entries(s.categoryProbabilities)
        .filter(([, p]) => p === 0)
        .map(([c]) => c);
    if (s.rating === 'Unsafe')
        t.same(
            zero,
            [...policy.categoryStrings].filter((c) => !policy.violatingCategoryStrings.includes(c)),
        );
    else t.same(zero, [], 'after Safe every category can be named');
    const sum = Object.values(s.categoryProbabilities).reduce((a, b) => a + b, 0);
    t.ok(Math.abs(sum - 1) < 1e-9);

    // (one category, allowed: the full policy with every category allowed outgrows the tiny model's context)
    const allAllowed = Policy.default('v1.2').remove('O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9').allow('O1');
    const safeOnly = await guard.score(image, { policy: allAllowed });
    t.same(safeOnly.ratingProbabilities, { Safe: 1, Unsafe: 0 }, 'nothing violates: Unsafe cannot be written');
    t.equal(safeOnly.unsafeProbability, 0);
});

t.test('score mode conditions the categories on the rating as the grammar does', async (t) => {
    const calls: Array<{ before: string; options: readonly string[] }> = [];
    // A stand-in scorer: Unsafe wins the rating; each category gets a weight by its position.
    const scorer = {
        score: async (before: string, options: readonly string[]) => {
            calls.push({ before, options });
            if (before.endsWith('"rating": "')) return options.map((o) => (o.startsWith('Unsafe') ? 0.7 : 0.3));
            const w = options.map((_, i) => i + 1);
            const sum = w.reduce((a, b) => a + b, 0);
            return w.map((x) => x / sum);
        },
    } as unknown as OptionScorer;
    const r = await scoreVerdict(scorer, policy, undefined);
    t.equal(r.rating, 'Unsafe');
    t.same(calls[1]!.options.length, policy.violatingCategoryStrings.length, 'only the violating categories scored');
    t.match(calls[1]!.before, /"rating": "Unsafe",\n {4}"category": "$/);
    for (const c of policy.categoryStrings) {
        const violating = policy.violatingCategoryStrings.includes(c);
        t.equal(r.categoryProbabilities[c]! > 0, violating, `${c}: ${r.categoryProbabilities[c]}`);
    }
    t.equal(r.category, policy.violatingCategoryStrings.at(-1), 'the most probable allowed answer');
});
