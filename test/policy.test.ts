import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { DEFAULT_CATEGORIES, NONE_APPLYING, Policy } from '../lib/policy/index.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// The training code feeds policy.strip(); fixtures are compared after the same trimming.
const fixture = (name: string) => readFileSync(here(`./fixtures/llavaguard/${name}`), 'utf8').trim();

const FIXTURES = {
    'policy-v1.2-default.txt': () => Policy.default('v1.2'),
    'policy-v1.0-default.txt': () => Policy.default('v1.0'),
    'policy-v1.2-O6-non-violating.txt': () => Policy.default('v1.2').allow('O6'),
    'policy-v1.2-O3-sensitive.txt': () => Policy.default('v1.2').sensitive('O3'),
} as const;

for (const [name, build] of Object.entries(FIXTURES)) {
    t.test(`render() reproduces ${name} byte for byte`, async (t) => {
        const rendered = build().render();
        const expected = fixture(name);
        t.equal(rendered.length, expected.length, 'same length');
        t.ok(rendered === expected, 'identical strings');
    });
}

const shared = here('../../shared/llavaguard/');
t.test(
    'fixtures copied into test/ match ../shared when it is present',
    { skip: !existsSync(shared) && 'no ../shared checkout' },
    async (t) => {
        for (const name of Object.keys(FIXTURES)) {
            t.equal(
                readFileSync(here(`./fixtures/llavaguard/${name}`), 'utf8'),
                readFileSync(`${shared}${name}`, 'utf8'),
                name,
            );
        }
    },
);

t.test('default policy keeps the trained trailing spaces', async (t) => {
    const lines = Policy.default().render().split('\n');
    for (const c of DEFAULT_CATEGORIES)
        t.ok(lines.includes(`${c.id}: ${c.name}: `), `${c.id} header ends with a space`);
    t.ok(
        lines.some((l) => l.startsWith('- Contain visible genitalia') && l.endsWith('content. ')),
        "O4's first bullet ends with a space",
    );
});

t.test('v1.0 and v1.2 differ only in assessment step 3', async (t) => {
    const a = Policy.default('v1.2').render().split('\n');
    const b = Policy.default('v1.0').render().split('\n');
    t.equal(a.length, b.length);
    const diff = a.map((l, i) => (l === b[i] ? -1 : i)).filter((i) => i >= 0);
    t.same(diff.length, 1);
    t.match(a[diff[0]], /^3\. Provide a "rationale"\./);
});

t.test('allow and sensitive combine: both blocks change, the rest stays default', async (t) => {
    const both = Policy.default().allow('O6').sensitive('O3').render();
    const o6 = fixture('policy-v1.2-O6-non-violating.txt');
    const o3 = fixture('policy-v1.2-O3-sensitive.txt');
    t.ok(both.includes('Category O6 is declared as non-violating.'));
    t.ok(both.includes('Category O3 is declared as sensitive.'));
    // Stitch the expected text from the two single-exception fixtures.
    const o3Block = o3.slice(o3.indexOf('O3: Sexual Content: '), o3.indexOf('O4: Nudity Content: '));
    const expected = o6.replace(
        o6.slice(o6.indexOf('O3: Sexual Content: '), o6.indexOf('O4: Nudity Content: ')),
        o3Block,
    );
    t.ok(both === expected, 'equals O6 fixture with the O3 block of the O3 fixture');
});

t.test('allow then sensitive on the same category: the last call wins', async (t) => {
    const p = Policy.default().allow('O3').sensitive('O3');
    t.equal(p.categories.find((c) => c.id === 'O3')?.status, 'sensitive');
    t.equal(p.render(), Policy.default().sensitive('O3').render());
    const q = Policy.default().sensitive('O3').allow('O3');
    t.equal(q.categories.find((c) => c.id === 'O3')?.status, 'allowed');
    t.equal(
        Policy.default().allow('O3').reset('O3').render(),
        Policy.default().render(),
        'reset() restores the default block',
    );
});

t.test('builder is immutable', async (t) => {
    const base = Policy.default();
    const before = base.render();
    base.allow('O6');
    base.addCategory({ id: 'O10', name: 'Spam', shouldNot: ['x'], can: ['y'] });
    t.equal(base.render(), before);
    t.ok(Object.isFrozen(base.categories[0].shouldNot));
    t.throws(() => {
        (base as unknown as { version: string }).version = 'v1.0';
    });
});

t.test('unknown category ids give a clear error', async (t) => {
    t.throws(() => Policy.default().allow('O42'), { message: /unknown category "O42".*O1, O2/ });
    t.throws(() => Policy.default().sensitive('o3'), { message: /unknown category "o3"/ });
    t.throws(() => Policy.default().setGuidelines('X', { shouldNot: [], can: [] }), {
        message: /unknown category "X"/,
    });
    t.throws(() => Policy.default().remove('O99'), { message: /unknown category "O99"/ });
    t.throws(() => Policy.default('v2.0' as 'v1.2'), { message: /unknown policy version "v2.0"/ });
});

t.test('the trained O2 exception text (double space) is kept while O2 is untouched', async (t) => {
    const allowed = Policy.default().allow('O2').render();
    t.ok(allowed.includes(' - Contain content of  people planning or engaging in violence.\n'));
    const custom = Policy.default()
        .setGuidelines('O2', { shouldNot: ['Contain content of people planning violence.'], can: ['News.'] })
        .sensitive('O2')
        .render();
    t.ok(custom.includes(' - Contain content of people planning violence.\n - News.\n \n'));
});

t.test('custom guidelines render in the same shape', async (t) => {
    const p = Policy.default().setGuidelines('O2', {
        shouldNot: ['First rule.', 'Second rule.'],
        can: ['Allowed thing.'],
    });
    const text = p.render();
    t.ok(
        text.includes(
            'O2: Violence, Harm, or Cruelty: \nShould not:\n- First rule.\n- Second rule.\nCan:\n- Allowed thing.\n\nO3: Sexual Content: \n',
        ),
    );
    t.equal(p.categoryStrings.length, 10);
    t.throws(() => Policy.default().setGuidelines('O2', { shouldNot: ['two\nlines'], can: [] }), {
        message: /policy\.categories\[1\]\.shouldNot\[0\]: expected a bullet without newlines/,
    });
});

t.test('a custom category renders like the built-in ones and joins the category list', async (t) => {
    const p = Policy.default().addCategory({
        id: 'O10',
        name: 'Spam',
        shouldNot: ['Contain unsolicited advertising.'],
        can: ['Contain ordinary product photos.'],
    });
    const text = p.render();
    t.ok(
        text.includes(
            '\n\nO10: Spam: \nShould not:\n- Contain unsolicited advertising.\nCan:\n- Contain ordinary product photos.\n\nAssessment Steps:\n',
        ),
    );
    t.ok(
        text.includes('|"O9: Disasters or Emergencies"|"O10: Spam"|"NA: None applying">,\n'),
        'listed in the JSON template',
    );
    t.same(p.categories.at(-1), {
        id: 'O10',
        name: 'Spam',
        label: 'O10: Spam',
        status: 'default',
        shouldNot: ['Contain unsolicited advertising.'],
        can: ['Contain ordinary product photos.'],
        builtin: false,
    });
    t.same(p.categoryStrings.slice(-2), ['O10: Spam', NONE_APPLYING]);
    t.ok(
        p
            .addCategory({ id: 'O11', name: 'Ads', shouldNot: ['a'], can: ['b'], status: 'sensitive' })
            .render()
            .includes('Category O11 is declared as sensitive.'),
    );
    t.throws(() => p.addCategory({ id: 'O10', name: 'Again', shouldNot: [], can: [] }), { message: /already exists/ });
    t.throws(() => p.addCategory({ id: 'NA', name: 'X', shouldNot: [], can: [] }), { message: /reserved/ });
    t.throws(() => p.addCategory({ id: 'O 12', name: 'X', shouldNot: [], can: [] }), {
        message: /policy\.categories\[10\]\.id: expected an id/,
    });
});

t.test('remove() drops a category from the text and the category strings', async (t) => {
    const p = Policy.default().remove('O9');
    t.notOk(p.render().includes('O9'));
    t.same(p.categoryStrings.at(-2), 'O8: Animal Cruelty');
    t.ok(
        p
            .render()
            .includes(
                '- Contain content that provides general information regarding animal cruelty.\n\nAssessment Steps:',
            ),
    );
});

t.test('categories and categoryStrings of the default policy', async (t) => {
    const p = Policy.default();
    t.same(p.categoryStrings, [
        'O1: Hate, Humiliation, Harassment',
        'O2: Violence, Harm, or Cruelty',
        'O3: Sexual Content',
        'O4: Nudity Content',
        'O5: Criminal Planning',
        'O6: Weapons or Substance Abuse',
        'O7: Self-Harm',
        'O8: Animal Cruelty',
        'O9: Disasters or Emergencies',
        'NA: None applying',
    ]);
    t.same(
        p
            .allow('O6')
            .sensitive('O3')
            .categories.map((c) => c.status),
        ['default', 'default', 'sensitive', 'default', 'default', 'allowed', 'default', 'default', 'default'],
    );
});

t.test('hash is stable, short hex, and differs between policies', async (t) => {
    const h = Policy.default().hash;
    t.match(h, /^[0-9a-f]{16}$/);
    t.equal(Policy.default().hash, h, 'same across instances');
    t.equal(Policy.fromJSON(JSON.parse(JSON.stringify(Policy.default()))).hash, h, 'same after a JSON round trip');
    const others = [
        Policy.default('v1.0'),
        Policy.default().allow('O6'),
        Policy.default().sensitive('O6'),
        Policy.default().allow('O6').sensitive('O3'),
        Policy.default().addCategory({ id: 'O10', name: 'Spam', shouldNot: ['a'], can: ['b'] }),
    ].map((p) => p.hash);
    t.equal(new Set([h, ...others]).size, others.length + 1, 'all different');
    // Recomputed from the fixture: the hash names exactly the trained text and the version.
    const expected = createHash('sha256')
        .update(`llavaguard-policy\0v1.2\0${fixture('policy-v1.2-default.txt')}`)
        .digest('hex')
        .slice(0, 16);
    t.equal(h, expected);
});
