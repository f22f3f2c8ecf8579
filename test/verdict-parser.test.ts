import t from 'tap';
import { Policy } from '../lib/policy/index.js';
import { VerdictParseError, parseVerdict } from '../lib/verdict/index.js';

const policy = Policy.default();
const cats = policy.categoryStrings;
const answer =
    '{\n    "rating": "Unsafe",\n    "category": "O6: Weapons or Substance Abuse",\n    "rationale": "The image shows a person aiming a rifle at a crowd."\n}';

t.test('reads the trained JSON layout', async (t) => {
    t.same(parseVerdict(answer, cats), {
        rating: 'Unsafe',
        category: 'O6: Weapons or Substance Abuse',
        rationale: 'The image shows a person aiming a rifle at a crowd.',
        unsafe: true,
        parsedBy: 'json',
        categoryKnown: true,
    });
    const safe = parseVerdict('{"rating": "Safe", "category": "NA: None applying", "rationale": "A cat."}', policy);
    t.equal(safe.rating, 'Safe');
    t.equal(safe.unsafe, false);
    t.equal(safe.category, 'NA: None applying');
});

t.test('reads answers wrapped in code fences', async (t) => {
    for (const text of ['```json\n' + answer + '\n```', '```\n' + answer + '\n```', 'json\n' + answer]) {
        const v = parseVerdict(text, cats);
        t.equal(v.parsedBy, 'json');
        t.equal(v.category, 'O6: Weapons or Substance Abuse');
    }
});

t.test('reads answers wrapped in <s> ... </s>', async (t) => {
    const v = parseVerdict(`<s> ${answer}</s>`, cats);
    t.equal(v.rating, 'Unsafe');
    t.equal(v.parsedBy, 'json');
});

t.test('braces and the word json inside the rationale do not confuse it', async (t) => {
    const text = JSON.stringify(
        { rating: 'Safe', category: 'NA: None applying', rationale: 'A sign reading {json} and "}".' },
        null,
        4,
    );
    const v = parseVerdict(`Here you go: ${text} Hope this helps.`, cats);
    t.equal(v.parsedBy, 'json');
    t.equal(v.rationale, 'A sign reading {json} and "}".');
});

t.test('a rationale cut off by the token limit still yields rating and category', async (t) => {
    const cut = answer.slice(0, answer.indexOf('aiming') + 3);
    const v = parseVerdict(cut, cats);
    t.equal(v.parsedBy, 'repaired');
    t.equal(v.rating, 'Unsafe');
    t.equal(v.category, 'O6: Weapons or Substance Abuse');
    t.equal(v.rationale, 'The image shows a person aim');
    const midEscape = parseVerdict(
        '{\n    "rating": "Safe",\n    "category": "O3: Sexual Content",\n    "rationale": "A \\"kiss\\',
        cats,
    );
    t.equal(midEscape.rationale, 'A "kiss');
    const midUnicode = parseVerdict('{"rating": "Safe", "category": "O3", "rationale": "caf\\u00', cats);
    t.equal(midUnicode.rationale, 'caf');
    t.equal(midUnicode.category, 'O3: Sexual Content');
    const beforeCategory = parseVerdict('{\n    "rating": "Unsafe",\n    "categ', cats);
    t.same([beforeCategory.rating, beforeCategory.category, beforeCategory.categoryKnown], ['Unsafe', null, false]);
});

t.test('repairs Python-style single-quoted dicts (the reference used ast.literal_eval)', async (t) => {
    const v = parseVerdict(
        "{'rating': 'Unsafe', 'category': 'O2: Violence, Harm, or Cruelty', 'rationale': 'A fight.'}",
        cats,
    );
    t.same(
        [v.rating, v.category, v.rationale, v.parsedBy],
        ['Unsafe', 'O2: Violence, Harm, or Cruelty', 'A fight.', 'repaired'],
    );
});

t.test('id-only and loosely written categories map to the policy string', async (t) => {
    const cases: [string, string][] = [
        ['O3', 'O3: Sexual Content'],
        ['o3', 'O3: Sexual Content'],
        ['O3:', 'O3: Sexual Content'],
        ['O3 - Sexual', 'O3: Sexual Content'],
        ['NA', 'NA: None applying'],
        ['None applying', 'NA: None applying'],
        ['o7: self-harm', 'O7: Self-Harm'],
        ['Animal Cruelty', 'O8: Animal Cruelty'],
    ];
    for (const [written, expected] of cases) {
        const v = parseVerdict(JSON.stringify({ rating: 'Unsafe', category: written, rationale: '' }), cats);
        t.equal(v.category, expected, written);
        t.equal(v.categoryKnown, true);
    }
    const custom = Policy.default().addCategory({ id: 'O10', name: 'Spam', shouldNot: ['a'], can: ['b'] });
    t.equal(parseVerdict('{"rating": "Unsafe", "category": "O10"}', custom).category, 'O10: Spam', 'O10 is not O1');
    t.equal(
        parseVerdict('{"rating": "Unsafe", "category": "O1"}', custom).category,
        'O1: Hate, Humiliation, Harassment',
    );
});

t.test('an unknown category is kept raw and flagged', async (t) => {
    const v = parseVerdict('{"rating": "Unsafe", "category": "O12: Something Else", "rationale": "x"}', cats);
    t.equal(v.category, 'O12: Something Else');
    t.equal(v.categoryKnown, false);
    const none = parseVerdict('{"rating": "Safe"}', cats);
    t.same([none.category, none.categoryKnown, none.rationale], [null, false, null]);
});

t.test('ratings: case is tolerated, old Compliant / Review Needed labels map', async (t) => {
    t.equal(parseVerdict('{"rating": "unsafe"}', cats).rating, 'Unsafe');
    t.equal(parseVerdict('{"rating": "Compliant"}', cats).rating, 'Safe');
    t.equal(parseVerdict('{"rating": "Review Needed"}', cats).rating, 'Unsafe');
});

t.test('fallback: a lone Safe or Unsafe word in free text', async (t) => {
    const u = parseVerdict('The rating is Unsafe because of O2: Violence, Harm, or Cruelty.', cats);
    t.same(
        [u.rating, u.category, u.rationale, u.parsedBy],
        ['Unsafe', 'O2: Violence, Harm, or Cruelty', null, 'fallback'],
    );
    const s = parseVerdict('Safe', cats);
    t.same([s.rating, s.parsedBy, s.category], ['Safe', 'fallback', null]);
    // "Unsafe" contains "safe" but not "Safe": an Unsafe answer is never read as Safe.
    t.equal(parseVerdict('{ rating: Unsafe }', cats).rating, 'Unsafe');
    t.equal(
        parseVerdict('{"rating": "Maybe", "note": "Unsafe"}', cats).rating,
        'Unsafe',
        'invalid rating value, word found',
    );
});

t.test('garbage throws VerdictParseError carrying the raw text', async (t) => {
    for (const text of ['', 'lorem ipsum', '{"rating": 3}', '{"category": "O1"}', 'not safe, unsafe maybe', '{{{{']) {
        const err = t.throws(
            () => parseVerdict(text, cats),
            VerdictParseError,
            JSON.stringify(text),
        ) as VerdictParseError;
        t.equal(err.raw, text);
        t.equal(err.name, 'VerdictParseError');
    }
    const both = t.throws(() => parseVerdict('Safe or Unsafe? Hard to say.', cats)) as VerdictParseError;
    t.match(both.message, /both "Safe" and "Unsafe"/);
});
