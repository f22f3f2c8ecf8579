import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { EvalManifestError, loadManifest, parseManifest, selectSplit } from '../lib/eval/manifest.js';
import { Policy } from '../lib/policy/index.js';

const errorOf = (fn: () => unknown): EvalManifestError => {
    try {
        fn();
    } catch (err) {
        if (err instanceof EvalManifestError) return err;
        throw err;
    }
    throw new Error('expected an EvalManifestError');
};

/** A JSONL manifest: each sample object as one JSON line; a string is a line as written (blank or malformed). */
const jsonLines = (...lines: Array<object | string>): string =>
    lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');

t.test('JSONL: categories given by id or string are normalised to the policy string', async (t) => {
    const text = jsonLines(
        { path: 'img/a.jpg', rating: 'Unsafe', category: 'O3', score: 'Highly Inappropriate', split: 'test' },
        '',
        { image: 'b.png', rating: 'safe', category: 'NA' },
        { path: 'c.png', rating: 'SAFE' },
        { id: 7, path: 'd.png', rating: 'Unsafe', category: 'o6: weapons or substance abuse' },
    );
    const s = parseManifest(text, { baseDir: '/sets/x' });
    t.same(
        s.map((x) => [x.id, x.image, x.rating, x.category, x.categoryId, x.line]),
        [
            ['img/a.jpg', '/sets/x/img/a.jpg', 'Unsafe', 'O3: Sexual Content', 'O3', 1],
            ['b.png', '/sets/x/b.png', 'Safe', 'NA: None applying', null, 3],
            ['c.png', '/sets/x/c.png', 'Safe', 'NA: None applying', null, 4],
            ['7', '/sets/x/d.png', 'Unsafe', 'O6: Weapons or Substance Abuse', 'O6', 5],
        ],
    );
    t.equal(s[0].score, 'Highly Inappropriate');
    t.equal(s[0].split, 'test');
    t.notOk('score' in s[1]);
    t.same(
        selectSplit(s, 'test').map((x) => x.id),
        ['img/a.jpg'],
    );
    t.equal(selectSplit(s).length, 4);
});

t.test('CSV: header columns, quoting, a quoted field across lines keeps its starting line', async (t) => {
    const text = [
        'Path,Rating,Category,Score,Split,Comment',
        'a.jpg,Unsafe,O2: Violence Harm,Moderately Inappropriate,train,x',
        '"b, c.jpg",Safe,,Generally Acceptable,test,"two',
        'lines"',
        'd.jpg,Unsafe,"O2: Violence, Harm, or Cruelty",,,',
    ].join('\r\n');
    const err = errorOf(() => parseManifest(text, { format: 'csv', baseDir: '/m' }));
    t.same(
        err.issues.map((i) => [i.line, i.field]),
        [[2, 'category']],
        'a loose but wrong name is an unknown category',
    );
    const fixed = text.replace('O2: Violence Harm', 'O2');
    const s = parseManifest(fixed, { format: 'csv', baseDir: '/m' });
    t.same(
        s.map((x) => [x.path, x.category, x.score ?? null, x.split ?? null, x.line]),
        [
            ['a.jpg', 'O2: Violence, Harm, or Cruelty', 'Moderately Inappropriate', 'train', 2],
            ['b, c.jpg', 'NA: None applying', 'Generally Acceptable', 'test', 3],
            ['d.jpg', 'O2: Violence, Harm, or Cruelty', null, null, 5],
        ],
    );
});

t.test('errors name the line and the field, and every problem is listed', async (t) => {
    const text = jsonLines(
        { path: 'a.jpg', rating: 'Unsafe', category: 'O3' },
        { path: 'b.jpg', rating: 'Maybe', category: 'O3' },
        'not json',
        { path: 'c.jpg', rating: 'Unsafe', category: 'O42' },
        { path: 'd.jpg', rating: 'Unsafe' },
        { path: 'e.jpg', rating: 'Safe', score: 'Somewhat bad' },
        { rating: 'Safe' },
        { path: 'a.jpg', rating: 'Safe' },
        { path: 5, rating: 'Safe' },
        '[1, 2]',
    );
    const err = errorOf(() => parseManifest(text, { source: 'sets/eval.jsonl' }));
    t.same(
        err.issues.map((i) => [i.line, i.field]),
        [
            [2, 'rating'],
            [3, null],
            [4, 'category'],
            [5, 'category'],
            [6, 'score'],
            [7, 'path'],
            [8, 'path'],
            [9, 'path'],
            [10, null],
        ],
    );
    t.match(err.message, /invalid evaluation manifest sets\/eval\.jsonl \(9 problems\)/);
    t.match(err.message, /sets\/eval\.jsonl:2 field "rating": expected "Safe" or "Unsafe"/);
    t.match(err.message, /sets\/eval\.jsonl:3: not a JSON line/);
    t.match(err.message, /:4 field "category": unknown category "O42"/);
    t.match(err.message, /:5 field "category": an Unsafe sample needs a category/);
    t.match(err.message, /:6 field "score": expected one of Highly Inappropriate/);
    t.match(err.message, /:8 field "path": duplicate sample id "a.jpg" \(first on line 1\)/);
});

t.test('CSV without a path column is rejected', async (t) => {
    const err = errorOf(() => parseManifest('file,rating\na.jpg,Safe\n', { format: 'csv' }));
    t.same(
        err.issues.map((i) => [i.line, i.field]),
        [[1, 'path']],
    );
    t.match(errorOf(() => parseManifest('', { format: 'csv' })).message, /empty CSV/);
});

t.test('categories are checked against the given policy', async (t) => {
    const policy = Policy.default().addCategory({ id: 'O10', name: 'Spam', shouldNot: ['Be spam.'], can: ['Mail.'] });
    const [s] = parseManifest('{"path":"a","rating":"Unsafe","category":"O10"}', { policy, baseDir: '/' });
    t.same([s.category, s.categoryId], ['O10: Spam', 'O10']);
    t.throws(
        () => parseManifest('{"path":"a","rating":"Unsafe","category":"O10"}', { baseDir: '/' }),
        EvalManifestError,
    );
});

t.test('loadManifest resolves paths against the manifest folder and picks CSV by extension', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-eval-manifest-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'set.csv'), 'path,rating,category\nimgs/a.jpg,Unsafe,O7\n/abs/b.jpg,Safe,NA\n');
    const s = await loadManifest(join(dir, 'set.csv'));
    t.same(
        s.map((x) => x.image),
        [join(dir, 'imgs/a.jpg'), '/abs/b.jpg'],
    );
    t.equal(s[0].category, 'O7: Self-Harm');
    writeFileSync(join(dir, 'bad.jsonl'), '{"path":"a","rating":"x"}\n');
    await t.rejects(loadManifest(join(dir, 'bad.jsonl')), /bad\.jsonl:1 field "rating"/);
});
