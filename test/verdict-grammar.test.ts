// The verdict grammar's layout: well-formed GBNF, the exact JSON shape, the rationale's escapes and bounds.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Policy } from '../lib/policy/index.js';
import {
    MAX_RATIONALE_CHARS,
    VERDICT_CLOSE_WITHOUT_RATIONALE,
    VERDICT_PREFIX,
    buildVerdictGrammar,
} from '../lib/verdict/index.js';
import { matches, parseGbnf } from './helpers/gbnf-matcher.js';
import { verdictText } from './helpers/verdict-text.js';

const jsonGbnf = fileURLToPath(new URL('../deps/llama.cpp/grammars/json.gbnf', import.meta.url));
t.test(
    'the test matcher agrees with llama.cpp json.gbnf on simple inputs (when deps/ is present)',
    { skip: !existsSync(jsonGbnf) && 'deps/llama.cpp not checked out' },
    async (t) => {
        const file = jsonGbnf;
        const g = parseGbnf(readFileSync(file, 'utf8'));
        t.ok(matches(g, '{"a": [1, 2.5, "x\\n"], "b": {"c": null}}'));
        t.notOk(matches(g, '{"a": [1, 2.5, "x\n"]}'), 'raw newline in a string');
        t.notOk(matches(g, '{"a" 1}'));
    },
);

t.test('the grammar is well-formed GBNF and starts with the constant prefix', async (t) => {
    for (const opts of [
        {},
        { rationale: false },
        { maxRationaleChars: 0 },
        { maxRationaleChars: MAX_RATIONALE_CHARS },
    ]) {
        const g = buildVerdictGrammar(Policy.default(), opts);
        t.doesNotThrow(() => parseGbnf(g), JSON.stringify(opts));
        t.match(g, /^root ::= /);
    }
    t.equal(VERDICT_PREFIX, '{\n    "rating": "');
    t.ok(verdictText('Safe', 'NA: None applying', 'x').startsWith(VERDICT_PREFIX));
});

t.test('a valid verdict for every category and rating matches', async (t) => {
    const policy = Policy.default();
    const g = parseGbnf(buildVerdictGrammar(policy));
    // Safe with any category; Unsafe with a category the policy declares violating (see the test below).
    for (const category of policy.categoryStrings) {
        for (const rating of ['Safe', 'Unsafe']) {
            if (rating === 'Unsafe' && !policy.violatingCategoryStrings.includes(category)) continue;
            t.ok(matches(g, verdictText(rating, category, 'The image shows a cat.')), `${rating} / ${category}`);
        }
    }
    t.ok(matches(g, verdictText('Safe', 'NA: None applying', '')), 'empty rationale');
});

t.test('rationale accepts every JSON string escape and non-ASCII text', async (t) => {
    const g = parseGbnf(buildVerdictGrammar(Policy.default()));
    const base = (r: string) =>
        `{\n    "rating": "Unsafe",\n    "category": "O3: Sexual Content",\n    "rationale": "${r}"\n}`;
    for (const r of [
        'say \\"hi\\"',
        'back\\\\slash',
        'a\\/b',
        '\\b\\f\\n\\r\\t',
        '\\u00e9\\uD83D\\uDE00',
        'déjà vu ✓ 😀',
        "it's {fine} [ok]",
    ]) {
        t.ok(matches(g, base(r)), r);
    }
    t.ok(matches(g, verdictText('Safe', 'O7: Self-Harm', 'line one\nline "two" \\ done')), 'JSON.stringify output');
});

t.test('wrong answers do not match', async (t) => {
    const g = parseGbnf(buildVerdictGrammar(Policy.default()));
    const ok = verdictText('Unsafe', 'O6: Weapons or Substance Abuse', 'A rifle.');
    t.ok(matches(g, ok), 'the reference answer matches');
    const bad: [string, string][] = [
        ['unknown category', verdictText('Unsafe', 'O10: Spam', 'x')],
        ['category in another case', verdictText('Unsafe', 'o6: weapons or substance abuse', 'x')],
        ['category id only', verdictText('Unsafe', 'O6', 'x')],
        ['lowercase rating', verdictText('unsafe', 'O6: Weapons or Substance Abuse', 'x')],
        ['other rating', verdictText('Maybe', 'O6: Weapons or Substance Abuse', 'x')],
        [
            '2-space indentation',
            JSON.stringify({ rating: 'Unsafe', category: 'O6: Weapons or Substance Abuse', rationale: 'x' }, null, 2),
        ],
        [
            'compact JSON',
            JSON.stringify({ rating: 'Unsafe', category: 'O6: Weapons or Substance Abuse', rationale: 'x' }),
        ],
        [
            'keys in another order',
            JSON.stringify({ category: 'O6: Weapons or Substance Abuse', rating: 'Unsafe', rationale: 'x' }, null, 4),
        ],
        ['no space after the colon', ok.replace('"rating": ', '"rating":')],
        ['unescaped quote in the rationale', ok.replace('A rifle.', 'A "rifle".')],
        ['lone backslash in the rationale', ok.replace('A rifle.', 'A \\ rifle.')],
        ['invalid escape', ok.replace('A rifle.', 'A \\x41 rifle.')],
        ['short unicode escape', ok.replace('A rifle.', 'A \\u12 rifle.')],
        ['raw newline in the rationale', ok.replace('A rifle.', 'A\nrifle.')],
        ['raw tab in the rationale', ok.replace('A rifle.', 'A\trifle.')],
        ['missing closing brace', ok.slice(0, -1)],
        ['trailing text', `${ok}\n`],
        ['trailing comma (as in the prompt template)', ok.replace('"\n}', '",\n}')],
    ];
    for (const [what, text] of bad) t.notOk(matches(g, text), what);
});

t.test('maxRationaleChars bounds the rationale (an escape counts once)', async (t) => {
    const g = parseGbnf(buildVerdictGrammar(Policy.default(), { maxRationaleChars: 5 }));
    const v = (r: string) =>
        `{\n    "rating": "Safe",\n    "category": "NA: None applying",\n    "rationale": "${r}"\n}`;
    t.ok(matches(g, v('')));
    t.ok(matches(g, v('abcde')));
    t.ok(matches(g, v('ab\\ncd')), '\\n is one character');
    t.ok(matches(g, v('\\u00e9bcde')));
    t.notOk(matches(g, v('abcdef')));
    t.match(buildVerdictGrammar(Policy.default(), { maxRationaleChars: 5 }), /json-char\{0,5\}/);
    const big = parseGbnf(buildVerdictGrammar(Policy.default(), { maxRationaleChars: MAX_RATIONALE_CHARS }));
    t.ok(matches(big, v('x'.repeat(MAX_RATIONALE_CHARS))));
    t.notOk(matches(big, v('x'.repeat(MAX_RATIONALE_CHARS + 1))));
    for (const bad of [-1, 1.5, MAX_RATIONALE_CHARS + 1, Number.NaN]) {
        t.throws(() => buildVerdictGrammar(Policy.default(), { maxRationaleChars: bad }), RangeError, String(bad));
    }
});

t.test('rationale: false stops right after the category value', async (t) => {
    const policy = Policy.default();
    const grammar = buildVerdictGrammar(policy, { rationale: false });
    t.notMatch(grammar, /rationale/);
    const g = parseGbnf(grammar);
    const head = '{\n    "rating": "Unsafe",\n    "category": "O2: Violence, Harm, or Cruelty"';
    t.ok(matches(g, head));
    t.notOk(matches(g, `${head},`));
    t.notOk(matches(g, head.slice(0, -1)));
    t.same(JSON.parse(head + VERDICT_CLOSE_WITHOUT_RATIONALE), {
        rating: 'Unsafe',
        category: 'O2: Violence, Harm, or Cruelty',
    });
});
