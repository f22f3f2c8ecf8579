// The verdict grammar's categories: tied to the rating, taken from the policy, escaped as GBNF literals.
import t from 'tap';
import { Policy } from '../lib/policy/index.js';
import { buildVerdictGrammar, gbnfLiteral, verdictLayouts } from '../lib/verdict/index.js';
import { matches, parseGbnf } from './helpers/gbnf-matcher.js';
import { verdictText } from './helpers/verdict-text.js';

t.test('Unsafe names a category the policy declares violating, never NA nor an allowed one; Safe any', async (t) => {
    const policy = Policy.default().allow('O6').sensitive('O3');
    for (const rationale of [true, false]) {
        const g = parseGbnf(buildVerdictGrammar(policy, { rationale }));
        const text = (rating: string, category: string) =>
            rationale
                ? verdictText(rating, category, 'x')
                : JSON.stringify({ rating, category }, null, 4).slice(0, -'\n}'.length);
        const label = (what: string) => `${what}${rationale ? '' : ' (rationale: false)'}`;
        t.notOk(matches(g, text('Unsafe', 'NA: None applying')), label('Unsafe / NA'));
        t.notOk(matches(g, text('Unsafe', 'O6: Weapons or Substance Abuse')), label('Unsafe / an allowed category'));
        t.ok(matches(g, text('Unsafe', 'O3: Sexual Content')), label('Unsafe / a sensitive category'));
        t.ok(matches(g, text('Unsafe', 'O1: Hate, Humiliation, Harassment')), label('Unsafe / a default category'));
        for (const category of policy.categoryStrings)
            t.ok(matches(g, text('Safe', category)), label(`Safe / ${category}`));
    }
    const allAllowed = Policy.default().allow('O1', 'O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9');
    const none = parseGbnf(buildVerdictGrammar(allAllowed));
    for (const category of allAllowed.categoryStrings) {
        t.notOk(matches(none, verdictText('Unsafe', category, 'x')), `nothing violates: no Unsafe / ${category}`);
        t.ok(matches(none, verdictText('Safe', category, 'x')));
    }
    const list = parseGbnf(buildVerdictGrammar(['A: One', 'NA: None applying']));
    t.ok(matches(list, verdictText('Unsafe', 'A: One', '')), 'a plain list: every string but NA violates');
    t.notOk(matches(list, verdictText('Unsafe', 'NA: None applying', '')));
    const declared = parseGbnf(
        buildVerdictGrammar({ categoryStrings: ['A: One', 'B: Two'], violatingCategoryStrings: ['B: Two'] }),
    );
    t.notOk(matches(declared, verdictText('Unsafe', 'A: One', '')), 'an explicit violating list is followed');
    t.ok(matches(declared, verdictText('Unsafe', 'B: Two', '')));
    t.same(
        verdictLayouts(policy).filter((l) => l.includes('Unsafe')).length,
        policy.violatingCategoryStrings.length,
        'the layouts (token grammar, drafts) follow the same rule',
    );
});

t.test('custom categories with quotes, backslashes and non-ASCII are escaped correctly', async (t) => {
    const policy = Policy.default()
        .addCategory({ id: 'O10', name: 'Spam "ads" \\ junk', shouldNot: ['a'], can: ['b'] })
        .addCategory({ id: 'O11', name: 'Gewalt & Übergriffe – 暴力 😀', shouldNot: ['a'], can: ['b'] });
    const grammar = buildVerdictGrammar(policy);
    t.ok(/^[\x20-\x7e\n]*$/.test(grammar), 'the grammar itself is plain ASCII');
    const g = parseGbnf(grammar);
    for (const category of policy.violatingCategoryStrings)
        t.ok(matches(g, verdictText('Unsafe', category, 'r')), category);
    t.ok(
        matches(
            g,
            '{\n    "rating": "Safe",\n    "category": "O10: Spam \\"ads\\" \\\\ junk",\n    "rationale": ""\n}',
        ),
    );
    t.notOk(
        matches(g, '{\n    "rating": "Safe",\n    "category": "O10: Spam "ads" \\ junk",\n    "rationale": ""\n}'),
        'raw quotes',
    );
    t.equal(gbnfLiteral('a"b\\c\né😀'), '"a\\"b\\\\c\\n\\u00E9\\U0001F600"');
});

t.test('custom categories and allow/sensitive flow into the grammar', async (t) => {
    const policy = Policy.default()
        .remove('O9')
        .addCategory({ id: 'O10', name: 'Spam', shouldNot: ['a'], can: ['b'] });
    const g = parseGbnf(buildVerdictGrammar(policy));
    t.ok(matches(g, verdictText('Unsafe', 'O10: Spam', 'x')));
    t.notOk(matches(g, verdictText('Unsafe', 'O9: Disasters or Emergencies', 'x')), 'removed category');
    const fromList = parseGbnf(buildVerdictGrammar(['A: One', 'NA: None applying']));
    t.ok(matches(fromList, verdictText('Safe', 'A: One', '')), 'a plain list of strings works too');
    t.throws(() => buildVerdictGrammar([]), RangeError);
});
