import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Policy, PolicyValidationError, type PolicyJSON } from '../lib/policy/index.js';

const custom = () =>
    Policy.default('v1.0')
        .allow('O6')
        .sensitive('O3')
        .setGuidelines('O2', { shouldNot: ['Rule "quoted" \\ here.'], can: ['Ünïcödé ✓ allowed.'] })
        .addCategory({ id: 'O10', name: 'Spam', shouldNot: ['Contain spam.'], can: ['Contain ads.'] });

t.test('toJSON / fromJSON round trip keeps the rendered text, hash and categories', async (t) => {
    const p = custom();
    const back = Policy.fromJSON(JSON.parse(JSON.stringify(p)));
    t.equal(back.render(), p.render());
    t.equal(back.hash, p.hash);
    t.equal(back.version, 'v1.0');
    t.same(back.categories, p.categories);
    t.same(back.toJSON(), p.toJSON());
});

t.test('save / load round trip through a file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'llavaguard-policy-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'policy.json');
    const p = custom();
    await p.save(file);
    const text = await readFile(file, 'utf8');
    t.match(text, /^\{\n {2}"format": "llavaguard-policy",\n {2}"version": "v1\.0",/);
    const loaded = await Policy.load(file);
    t.equal(loaded.render(), p.render());
    t.equal(loaded.hash, p.hash);
});

t.test('status may be omitted in JSON and defaults to "default"', async (t) => {
    const json = Policy.default().toJSON();
    const categories = json.categories.map(({ status: _s, ...rest }) => rest);
    t.equal(Policy.fromJSON({ version: 'v1.2', categories }).render(), Policy.default().render());
});

const base = (): PolicyJSON => JSON.parse(JSON.stringify(Policy.default()));

const cases: [string, (j: any) => void, RegExp][] = [
    [
        'a wrong status value',
        (j) => (j.categories[2].status = 'forbidden'),
        /policy\.categories\[2\]\.status: expected one of default\|allowed\|sensitive, got "forbidden"/,
    ],
    ['an unknown top-level key', (j) => (j.extra = 1), /policy\.extra: unknown key/],
    [
        'an unknown category key',
        (j) => (j.categories[0].should_not = []),
        /policy\.categories\[0\]\.should_not: unknown key/,
    ],
    ['a wrong version', (j) => (j.version = '1.2'), /policy\.version: expected one of v1\.2\|v1\.0, got "1\.2"/],
    [
        'a missing name',
        (j) => delete j.categories[4].name,
        /policy\.categories\[4\]\.name: expected a category name \(a string\), got nothing/,
    ],
    [
        'a bullet that is not a string',
        (j) => (j.categories[1].can[1] = 7),
        /policy\.categories\[1\]\.can\[1\]: expected a bullet \(a string\), got 7/,
    ],
    [
        'bullets that are not an array',
        (j) => (j.categories[1].can = 'text'),
        /policy\.categories\[1\]\.can: expected an array of strings/,
    ],
    [
        'a newline in a name',
        (j) => (j.categories[3].name = 'Nudity\nContent'),
        /policy\.categories\[3\]\.name: expected a category name without newlines/,
    ],
    ['a duplicate id', (j) => (j.categories[5].id = 'O1'), /policy\.categories\[5\]\.id: duplicate category id "O1"/],
    ['the reserved id NA', (j) => (j.categories[0].id = 'NA'), /policy\.categories\[0\]\.id: "NA" is reserved/],
    ['no categories', (j) => (j.categories = []), /policy\.categories: expected at least one category/],
    ['a wrong format tag', (j) => (j.format = 'other'), /policy\.format: expected "llavaguard-policy"/],
];

for (const [what, mutate, message] of cases) {
    t.test(`schema error names the key for ${what}`, async (t) => {
        const j = base();
        mutate(j);
        const err = t.throws(() => Policy.fromJSON(j), PolicyValidationError) as PolicyValidationError;
        t.match(err.message, message);
        t.ok(err.issues.length >= 1);
    });
}

t.test('a non-object gives a readable error', async (t) => {
    t.throws(() => Policy.fromJSON('nope'), { name: 'PolicyValidationError', message: /^invalid policy: policy: / });
    t.throws(() => Policy.fromJSON(null), PolicyValidationError);
});

t.test('load() names the file for bad JSON and for schema errors', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'llavaguard-policy-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ "version": ');
    await t.rejects(Policy.load(broken), {
        message: new RegExp(`${broken.replace(/[.\\/]/g, '\\$&')} is not valid JSON`),
    });
    const wrong = join(dir, 'wrong.json');
    const j = base();
    (j.categories[0] as any).status = 'maybe';
    await writeFile(wrong, JSON.stringify(j));
    await t.rejects(Policy.load(wrong), {
        message: /invalid policy in .*wrong\.json: policy\.categories\[0\]\.status: expected one of/,
    });
});
