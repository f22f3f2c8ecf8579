import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Policy } from '../lib/policy/index.js';
import {
    MAX_RATIONALE_CHARS,
    VERDICT_CLOSE_WITHOUT_RATIONALE,
    VERDICT_PREFIX,
    buildVerdictGrammar,
    gbnfLiteral,
    verdictLayouts,
} from '../lib/verdict/index.js';

// ---------------------------------------------------------------------------------------------
// A small GBNF reader and matcher, written for this test (independent of the code under test).
// It follows llama.cpp's parser (src/llama-grammar.cpp): rules "name ::= ...", literals with the
// escapes \x \u \U \t \r \n \\ \" \[ \] \-, character classes with ^ and ranges, groups, "." and
// the repetitions * + ? {m} {m,} {m,n}; a newline ends a rule unless inside parentheses or after
// "|". Parsing throws on anything malformed, so a successful parse is the well-formedness check.
// ---------------------------------------------------------------------------------------------
type Node =
    | { t: 'lit'; cps: number[] }
    | { t: 'class'; neg: boolean; ranges: [number, number][] }
    | { t: 'any' }
    | { t: 'ref'; name: string }
    | { t: 'seq'; items: Node[] }
    | { t: 'alt'; alts: Node[] }
    | { t: 'rep'; item: Node; min: number; max: number };

const MAX_REPETITION = 2000; // llama.cpp's MAX_REPETITION_THRESHOLD

function parseGbnf(src: string): Map<string, Node> {
    const rules = new Map<string, Node>();
    let i = 0;
    const cp = () => src.codePointAt(i)!;
    const fail = (msg: string): never => {
        throw new Error(`GBNF: ${msg} at ${JSON.stringify(src.slice(i, i + 30))}`);
    };
    const space = (newlines: boolean) => {
        while (i < src.length) {
            const c = src[i];
            if (c === '#') while (i < src.length && src[i] !== '\n') i++;
            else if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) i++;
            else break;
        }
    };
    const name = () => {
        const m = /^[a-zA-Z0-9-]+/.exec(src.slice(i));
        if (!m) fail('expecting name');
        i += m![0].length;
        return m![0];
    };
    const hex = (n: number) => {
        const h = src.slice(i, i + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) fail(`expecting ${n} hex chars`);
        i += n;
        return parseInt(h, 16);
    };
    const char = (): number => {
        if (src[i] === '\\') {
            const e = src[i + 1];
            i += 2;
            switch (e) {
                case 'x':
                    return hex(2);
                case 'u':
                    return hex(4);
                case 'U':
                    return hex(8);
                case 't':
                    return 9;
                case 'r':
                    return 13;
                case 'n':
                    return 10;
                case '\\':
                case '"':
                case '[':
                case ']':
                case '-':
                    return e.codePointAt(0)!;
                default:
                    return fail('unknown escape');
            }
        }
        if (i >= src.length) fail('unexpected end');
        const c = cp();
        i += c > 0xffff ? 2 : 1;
        return c;
    };
    const int = () => {
        const m = /^[0-9]+/.exec(src.slice(i));
        if (!m) fail('expecting integer');
        i += m![0].length;
        return Number(m![0]);
    };
    const alternatives = (nested: boolean): Node => {
        const alts = [sequence(nested)];
        while (src[i] === '|') {
            i++;
            space(true);
            alts.push(sequence(nested));
        }
        return alts.length === 1 ? alts[0] : { t: 'alt', alts };
    };
    const sequence = (nested: boolean): Node => {
        const items: Node[] = [];
        while (i < src.length) {
            const c = src[i];
            if (c === '"') {
                i++;
                const cps: number[] = [];
                while (src[i] !== '"') cps.push(char());
                i++;
                items.push({ t: 'lit', cps });
            } else if (c === '[') {
                i++;
                const neg = src[i] === '^';
                if (neg) i++;
                const ranges: [number, number][] = [];
                while (src[i] !== ']') {
                    const lo = char();
                    if (src[i] === '-' && src[i + 1] !== ']') {
                        i++;
                        ranges.push([lo, char()]);
                    } else ranges.push([lo, lo]);
                }
                i++;
                items.push({ t: 'class', neg, ranges });
            } else if (c === '.') {
                i++;
                items.push({ t: 'any' });
            } else if (c === '(') {
                i++;
                space(true);
                items.push(alternatives(true));
                if (src[i] !== ')') fail("expecting ')'");
                i++;
            } else if (/[a-zA-Z0-9-]/.test(c)) {
                const save = i;
                const n = name();
                const after = i;
                space(false);
                if (src.startsWith('::=', i)) {
                    i = save; // the next rule starts here
                    break;
                }
                i = after;
                items.push({ t: 'ref', name: n });
            } else if (c === '*' || c === '+' || c === '?' || c === '{') {
                if (items.length === 0) fail('repetition without item');
                let min = 0;
                let max = Infinity;
                if (c === '+') min = 1;
                if (c === '?') max = 1;
                i++;
                if (c === '{') {
                    space(nested);
                    min = int();
                    space(nested);
                    if (src[i] === '}') max = min;
                    else if (src[i] === ',') {
                        i++;
                        space(nested);
                        max = src[i] === '}' ? Infinity : int();
                        space(nested);
                    } else fail("expecting ','");
                    if (src[i] !== '}') fail("expecting '}'");
                    i++;
                    if (min > MAX_REPETITION || (max !== Infinity && max > MAX_REPETITION))
                        fail('repetition beyond llama.cpp limit');
                }
                items.push({ t: 'rep', item: items.pop()!, min, max });
            } else break;
            space(nested);
        }
        return items.length === 1 ? items[0] : { t: 'seq', items };
    };
    space(true);
    while (i < src.length) {
        const n = name();
        space(false);
        if (!src.startsWith('::=', i)) fail("expecting '::='");
        i += 3;
        space(true);
        if (rules.has(n)) fail(`rule ${n} defined twice`);
        rules.set(n, alternatives(false));
        if (i < src.length && src[i] !== '\n' && src[i] !== '\r') fail('expecting newline or end');
        space(true);
    }
    if (!rules.has('root')) throw new Error('GBNF: no root rule');
    const check = (node: Node): void => {
        if (node.t === 'ref' && !rules.has(node.name)) throw new Error(`GBNF: undefined rule ${node.name}`);
        if (node.t === 'seq') node.items.forEach(check);
        if (node.t === 'alt') node.alts.forEach(check);
        if (node.t === 'rep') check(node.item);
    };
    rules.forEach(check);
    return rules;
}

function matches(rules: Map<string, Node>, input: string): boolean {
    const cps = [...input].map((c) => c.codePointAt(0)!);
    const memo = new Map<string, Set<number>>();
    const run = (node: Node, pos: number): Set<number> => {
        switch (node.t) {
            case 'lit':
                return node.cps.every((c, k) => cps[pos + k] === c) ? new Set([pos + node.cps.length]) : new Set();
            case 'class': {
                if (pos >= cps.length) return new Set();
                const inside = node.ranges.some(([lo, hi]) => cps[pos] >= lo && cps[pos] <= hi);
                return inside !== node.neg ? new Set([pos + 1]) : new Set();
            }
            case 'any':
                return pos < cps.length ? new Set([pos + 1]) : new Set();
            case 'ref': {
                const key = `${node.name}@${pos}`;
                let r = memo.get(key);
                if (!r) {
                    r = run(rules.get(node.name)!, pos);
                    memo.set(key, r);
                }
                return r;
            }
            case 'seq':
                return node.items.reduce(
                    (set, item) => {
                        const next = new Set<number>();
                        for (const p of set) for (const q of run(item, p)) next.add(q);
                        return next;
                    },
                    new Set([pos]),
                );
            case 'alt':
                return new Set(node.alts.flatMap((a) => [...run(a, pos)]));
            case 'rep': {
                const out = new Set<number>();
                let frontier = new Set([pos]);
                const seen = new Set<number>();
                for (let k = 0; frontier.size > 0; k++) {
                    if (k >= node.min) for (const p of frontier) out.add(p);
                    if (k >= node.max) break;
                    const next = new Set<number>();
                    for (const p of frontier)
                        for (const q of run(node.item, p)) if (k < node.min || !seen.has(q)) next.add(q);
                    for (const p of frontier) seen.add(p);
                    frontier = next;
                }
                return out;
            }
        }
    };
    return run(rules.get('root')!, 0).has(cps.length);
}

// ---------------------------------------------------------------------------------------------

const verdictText = (rating: string, category: string, rationale: string) =>
    // JSON.stringify(…, null, 4) lays out like json.dumps(…, indent=4) (without ensure_ascii).
    JSON.stringify({ rating, category, rationale }, null, 4);

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
