// A chat request's text is a policy prompt: parsed back into the Policy that renders exactly that text (the
// reference's templates, policy exceptions, custom categories, both wordings), anything else refused.
import t from 'tap';
import { Policy } from '../lib/policy/index.js';
import { DEFAULT_CATEGORY_MAP, OPENAI_CATEGORIES, policyFromText } from '../lib/server/index.js';
import { toOpenAICategories } from '../lib/server/categories.js';

const cases: [string, Policy][] = [
    ['the v1.2 default (json-v24)', Policy.default('v1.2')],
    ['the v1.0 default (json-v16)', Policy.default('v1.0')],
    [
        'exceptions: O2 allowed (its trained double space), O3 sensitive',
        Policy.default('v1.2').allow('O2', 'O6').sensitive('O3'),
    ],
    [
        'changed guidelines under an exception',
        Policy.default('v1.2')
            .setGuidelines('O1', { shouldNot: ['a'], can: ['b', 'c'] })
            .allow('O1'),
    ],
    [
        'custom categories, one allowed, one removed',
        Policy.default('v1.2')
            .remove('O9')
            .addCategory({ id: 'X1', name: 'Spam: Ads', shouldNot: ['Advertise.'], can: ['Inform.'] })
            .addCategory({ id: 'X2', name: 'Memes', shouldNot: ['Mock.'], can: [], status: 'allowed' }),
    ],
];
for (const [name, policy] of cases) {
    t.test(`${name}: the rendered text gives back the same policy`, async (t) => {
        const parsed = policyFromText(`  ${policy.render()}\n`);
        t.ok(parsed, 'parsed');
        t.equal(parsed!.hash, policy.hash);
        t.same(parsed!.categoryStrings, policy.categoryStrings);
        t.same(
            parsed!.categories.map((c) => c.status),
            policy.categories.map((c) => c.status),
        );
    });
}

t.test('text that is not a policy prompt, or one edited so no policy renders it, is refused', async (t) => {
    const text = Policy.default('v1.2').render();
    t.equal(policyFromText('Is this image safe?'), undefined);
    t.equal(policyFromText(''), undefined);
    t.equal(policyFromText(text.replace('Should not:', 'Should not :')), undefined);
    t.equal(policyFromText(text.replace('"rationale": str,', '"reason": str,')), undefined);
    t.equal(
        policyFromText(text.replace('O5: Criminal Planning"', 'O5: Crime"')),
        undefined,
        'the category list disagrees',
    );
    t.equal(
        policyFromText(text.replace('- Contain content of people planning', '-Contain content of people planning')),
        undefined,
    );
});

t.test('OpenAI category scores: P(Unsafe) x the mapped violating categories; allowed ones count nothing', async (t) => {
    const policy = Policy.default('v1.2').allow('O4');
    const probabilities = Object.fromEntries(policy.categoryStrings.map((c) => [c, 0]));
    probabilities['O3: Sexual Content'] = 0.5;
    probabilities['O4: Nudity Content'] = 0.3;
    probabilities['O6: Weapons or Substance Abuse'] = 0.2;
    const r = toOpenAICategories(
        policy,
        { unsafeProbability: 0.8, categoryProbabilities: probabilities },
        { unsafe: true, category: 'O6: Weapons or Substance Abuse' },
    );
    t.same(Object.keys(r.category_scores), [...OPENAI_CATEGORIES]);
    t.equal(r.category_scores.sexual, 0.8 * 0.5, 'O4 is allowed: only O3 counts');
    t.equal(r.category_scores.illicit, 0.8 * 0.2);
    t.equal(r.category_scores['illicit/violent'], 0.8 * 0.2);
    t.equal(r.categories.illicit, true);
    t.equal(r.categories['illicit/violent'], true);
    t.equal(r.categories.sexual, false);
    t.same(r.category_applied_input_types.hate, ['image']);
    t.same(r.category_applied_input_types['self-harm/intent'], []);
    t.same(DEFAULT_CATEGORY_MAP.O1, ['hate', 'harassment']);
});
