import t from 'tap';
import { augment } from '../lib/eval/augment.js';
import { parseManifest, type EvalSample } from '../lib/eval/manifest.js';
import { hashSeed, mulberry32 } from '../lib/eval/random.js';
import { Policy } from '../lib/policy/index.js';

const samples = (): EvalSample[] =>
    parseManifest(
        [
            '{"path": "a.jpg", "rating": "Unsafe", "category": "O3"}',
            '{"path": "b.jpg", "rating": "Safe", "category": "O6"}',
            '{"path": "c.jpg", "rating": "Safe", "category": "NA"}',
            '{"path": "d.jpg", "rating": "Unsafe", "category": "O9: Disasters or Emergencies"}',
        ].join('\n'),
        { baseDir: '/data' },
    );

const statusOf = (p: Policy) =>
    Object.fromEntries(p.categories.filter((c) => c.status !== 'default').map((c) => [c.id, c.status]));

t.test("mode 'none' returns the originals under the base policy", async (t) => {
    const base = Policy.default('v1.2');
    const out = augment(samples(), { mode: 'none', basePolicy: base });
    t.same(
        out.map((s) => [s.id, s.kind, s.expected]),
        [
            ['a.jpg', 'original', 'Unsafe'],
            ['b.jpg', 'original', 'Safe'],
            ['c.jpg', 'original', 'Safe'],
            ['d.jpg', 'original', 'Unsafe'],
        ],
    );
    for (const s of out) t.equal(s.policy.hash, base.hash);
});

t.test('paper mode: v2 flips Unsafe to Safe by allowing the own category, v4 flips Safe to Unsafe', async (t) => {
    const out = augment(samples(), { mode: 'paper', seed: 1 });
    t.same(
        out.map((s) => [s.id, s.kind, s.expected, s.allowed, s.sensitive]),
        [
            ['a.jpg', 'original', 'Unsafe', [], []],
            ['a.jpg#v2', 'v2', 'Safe', ['O3'], []],
            ['b.jpg', 'original', 'Safe', [], []],
            ['b.jpg#v4', 'v4', 'Unsafe', [], ['O6']],
            ['c.jpg', 'original', 'Safe', [], []], // NA: no v4
            ['d.jpg', 'original', 'Unsafe', [], []],
            ['d.jpg#v2', 'v2', 'Safe', ['O9'], []],
        ],
    );
    const v2 = out.find((s) => s.id === 'a.jpg#v2')!;
    t.same(statusOf(v2.policy), { O3: 'allowed' });
    t.equal(v2.policy.hash, Policy.default().allow('O3').hash, 'the policy the paper describes');
    t.match(v2.policy.render(), /Category O3 is declared as non-violating/);
    t.equal(v2.expectedCategory, 'O3: Sexual Content', 'the true category stays');
    const v4 = out.find((s) => s.id === 'b.jpg#v4')!;
    t.same(statusOf(v4.policy), { O6: 'sensitive' });
    t.equal(v4.policy.hash, Policy.default().sensitive('O6').hash);
});

t.test('v3 and v5 change 1-3 other categories and keep the label', async (t) => {
    const out = augment(samples(), { seed: 3, kinds: ['v2', 'v3', 'v4', 'v5'] });
    const v3 = out.filter((s) => s.kind === 'v3');
    const v5 = out.filter((s) => s.kind === 'v5');
    t.equal(v3.length, 4, 'every sample gets a v3');
    t.equal(v5.length, 4, 'every sample gets a v5');
    for (const s of [...v3, ...v5]) {
        const changed = s.kind === 'v3' ? s.allowed : s.sensitive;
        t.ok(changed.length >= 1 && changed.length <= 3, `${s.id}: ${changed.length} categories`);
        t.equal(new Set(changed).size, changed.length, 'distinct');
        t.notOk(changed.includes(s.sample.categoryId ?? ''), `${s.id} leaves its own category alone`);
        t.equal(s.expected, s.sample.rating, 'label unchanged');
        const status = s.kind === 'v3' ? 'allowed' : 'sensitive';
        t.same(statusOf(s.policy), Object.fromEntries(changed.map((id) => [id, status])));
    }
    t.same(
        out.filter((s) => s.sample.id === 'a.jpg').map((s) => s.kind),
        ['original', 'v2', 'v3', 'v5'],
        'variants follow their original, in kind order',
    );
});

t.test('augmentation is deterministic for a seed and independent of the other samples', async (t) => {
    const opts = { seed: 42, kinds: ['v2', 'v3', 'v4', 'v5'] as const };
    const key = (list: ReturnType<typeof augment>) =>
        list.map((s) => [s.id, s.expected, s.allowed, s.sensitive, s.policy.hash]);
    const a = augment(samples(), opts);
    t.same(key(a), key(augment(samples(), opts)), 'same seed, same variants');
    const reversed = augment([...samples()].reverse(), opts);
    const byId = (list: ReturnType<typeof augment>) => Object.fromEntries(key(list).map((k) => [k[0], k]));
    t.same(byId(reversed), byId(a), 'order of the samples does not matter');
    const seeds = Array.from({ length: 8 }, (_, i) => JSON.stringify(key(augment(samples(), { ...opts, seed: i }))));
    t.ok(new Set(seeds).size > 1, 'other seeds choose other categories');
});

t.test('equal exceptions share one Policy object', async (t) => {
    const list = parseManifest(
        '{"path":"a","rating":"Unsafe","category":"O3"}\n{"path":"b","rating":"Unsafe","category":"O3"}',
        { baseDir: '/' },
    );
    const out = augment(list, { seed: 0 });
    const [x, y] = out.filter((s) => s.kind === 'v2');
    t.equal(x.policy, y.policy);
    t.equal(out[0].policy, out[2].policy, 'originals share the base policy');
});

t.test('exceptions build on the base policy', async (t) => {
    const base = Policy.default('v1.0').allow('O1');
    const out = augment(samples(), { basePolicy: base, seed: 0 });
    const v2 = out.find((s) => s.kind === 'v2')!;
    t.equal(v2.policy.version, 'v1.0');
    t.same(statusOf(v2.policy), { O1: 'allowed', O3: 'allowed' });
});

t.test('rejects an unknown mode or kind, and a category missing from the base policy', async (t) => {
    t.throws(() => augment(samples(), { mode: 'all' as 'paper' }), /unknown augmentation mode/);
    t.throws(() => augment(samples(), { kinds: ['v9' as 'v2'] }), /unknown variant kind/);
    t.throws(
        () => augment(samples(), { basePolicy: Policy.default().remove('O3') }),
        /category O3 is not in the base policy/,
    );
});

t.test('mulberry32 and hashSeed are stable', async (t) => {
    const r = mulberry32(1);
    const first = [r(), r(), r()];
    const again = mulberry32(1);
    t.same([again(), again(), again()], first);
    for (const x of first) t.ok(x >= 0 && x < 1);
    t.equal(hashSeed(1, 'a'), hashSeed(1, 'a'));
    t.not(hashSeed(1, 'a'), hashSeed(2, 'a'));
    t.not(hashSeed(1, 'a', 'v3'), hashSeed(1, 'a', 'v5'));
});
