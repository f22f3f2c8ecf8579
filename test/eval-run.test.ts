import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Assessment, AssessOptions, ImageInput } from '../lib/guard/types.js';
import { readRecords, runEval, type EvalGuard } from '../lib/eval/run.js';
import { Policy } from '../lib/policy/index.js';
import { VerdictParseError } from '../lib/verdict/index.js';

// A stand-in guard that "sees" the category written in the image file and follows the policy
// exactly: allowed -> Safe, sensitive -> Unsafe, default -> the rating written in the file.
// A file reading "garbage" yields an unparseable answer.
function fakeGuard(): EvalGuard & { calls: { image: string; hash: string; seed?: number }[] } {
    const calls: { image: string; hash: string; seed?: number }[] = [];
    return {
        calls,
        modelInfo: { name: 'fake <guard>' },
        defaultPolicy: Policy.default('v1.2'),
        async assess(image: ImageInput, options: AssessOptions = {}): Promise<Assessment> {
            const text = Buffer.from(image as Buffer)
                .toString('utf8')
                .trim();
            const policy = options.policy!;
            calls.push({ image: text, hash: policy.hash, seed: options.seed });
            if (text === 'garbage') throw new VerdictParseError('no rating in the answer', 'blah');
            const [rating, id] = text.split(' ');
            const cat = policy.categories.find((c) => c.id === id);
            const unsafe = cat?.status === 'sensitive' ? true : cat?.status === 'allowed' ? false : rating === 'Unsafe';
            return {
                rating: unsafe ? 'Unsafe' : 'Safe',
                category: cat?.label ?? 'NA: None applying',
                rationale: `saw ${text}`,
                unsafe,
                raw: '{}',
                parsedBy: 'json',
                policyHash: policy.hash,
            } as Assessment;
        },
    };
}

t.test('runEval assesses every variant and writes records, metrics and report', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-eval-run-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'a.jpg'), 'Unsafe O3');
    writeFileSync(join(dir, 'b.jpg'), 'Safe O6');
    writeFileSync(join(dir, 'c.jpg'), 'garbage');
    writeFileSync(
        join(dir, 'set.jsonl'),
        [
            '{"path":"a.jpg","rating":"Unsafe","category":"O3","split":"test","score":"Highly Inappropriate"}',
            '{"path":"b.jpg","rating":"Safe","category":"O6","split":"test"}',
            '{"path":"c.jpg","rating":"Unsafe","category":"O1","split":"test"}',
            '{"path":"missing.jpg","rating":"Safe","split":"test"}',
            '{"path":"x.jpg","rating":"Safe","split":"train"}',
        ].join('\n'),
    );
    const guard = fakeGuard();
    const progress: number[] = [];
    const run = await runEval(guard, join(dir, 'set.jsonl'), {
        out: join(dir, 'out'),
        augment: 'paper',
        seed: 5,
        split: 'test',
        resamples: 200,
        onProgress: (done) => progress.push(done),
    });
    // a: original + v2, b: original + v4, c: original + v2, missing: original
    t.same(
        run.records.map((r) => [r.id, r.kind, r.expected, r.predicted]),
        [
            ['a.jpg', 'original', 'Unsafe', 'Unsafe'],
            ['a.jpg#v2', 'v2', 'Safe', 'Safe'],
            ['b.jpg', 'original', 'Safe', 'Safe'],
            ['b.jpg#v4', 'v4', 'Unsafe', 'Unsafe'],
            ['c.jpg', 'original', 'Unsafe', null],
            ['c.jpg#v2', 'v2', 'Safe', null],
            ['missing.jpg', 'original', 'Safe', null],
        ],
    );
    t.same(progress, [1, 2, 3, 4, 5, 6, 7]);
    t.equal(guard.calls.length, 6, 'the missing image is never sent');
    t.ok(
        guard.calls.every((c) => c.seed === 5),
        'the seed reaches every assessment',
    );
    t.equal(guard.calls[1].hash, Policy.default().allow('O3').hash, 'v2 runs under the exception policy');
    t.same(run.records[4].error, { name: 'VerdictParseError', message: 'no rating in the answer' });
    t.equal(run.records[6].error!.name, 'Error');
    t.match(run.records[6].error!.message, /ENOENT/);

    // PER: v2 a (TN) + v2 c (unparseable: wrong) + v4 b (TP) -> 2/3
    t.same([run.metrics.figures.per.num, run.metrics.figures.per.den], [2, 3]);
    // unparseable: c, c#v2, missing -> 3/7
    t.same([run.metrics.figures.unparseable.num, run.metrics.figures.unparseable.den], [3, 7]);
    t.equal(run.metrics.bootstrap.unit, 'group', 'variants of one image resample together');
    t.same(Object.keys(run.metrics.bySeverity), ['Highly Inappropriate'], 'the annotated score reaches the metrics');
    t.equal(run.records[0].annotatedScore, 'Highly Inappropriate');

    const onDisk = JSON.parse(readFileSync(run.files.metrics, 'utf8'));
    t.same(onDisk, JSON.parse(JSON.stringify(run.metrics)));
    t.same(await readRecords(run.files.records), JSON.parse(JSON.stringify(run.records)));
    const html = readFileSync(run.files.report, 'utf8');
    t.match(html, 'fake &lt;guard&gt;');
    t.match(html, 'VerdictParseError: no rating in the answer');
    t.match(html, 'Misclassified samples (3 of 7)');
});

t.test('runEval without augmentation takes samples directly and stops on abort', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-eval-run-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'a.jpg'), 'Unsafe O3');
    const sample = {
        id: 'a',
        path: 'a.jpg',
        image: join(dir, 'a.jpg'),
        rating: 'Unsafe' as const,
        category: 'O3: Sexual Content',
        categoryId: 'O3',
        line: 1,
    };
    const run = await runEval(fakeGuard(), [sample], { out: join(dir, 'o1'), resamples: 0 });
    t.same(
        run.records.map((r) => r.kind),
        ['original'],
    );
    t.equal(run.metrics.figures.recall.value, 1);

    const ac = new AbortController();
    ac.abort();
    await t.rejects(runEval(fakeGuard(), [sample], { out: join(dir, 'o2'), signal: ac.signal }), {
        name: 'AbortError',
    });
    await t.rejects(runEval(fakeGuard(), [sample], {} as never), /options\.out/);
});

t.test('thumbnails of misclassified samples are embedded as data URLs when asked for', async (t) => {
    const { default: sharp } = await import('sharp');
    const dir = mkdtempSync(join(tmpdir(), 'lg-eval-run-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    await sharp({ create: { width: 300, height: 200, channels: 3, background: '#c33' } })
        .png()
        .toFile(join(dir, 'red.png'));
    writeFileSync(join(dir, 'broken.png'), 'not an image');
    writeFileSync(join(dir, 'set.csv'), 'path,rating,category\nred.png,Unsafe,O3\nbroken.png,Unsafe,O3\n');
    const alwaysSafe: EvalGuard = {
        async assess(_image: ImageInput, options: AssessOptions = {}) {
            return {
                rating: 'Safe',
                category: 'NA: None applying',
                rationale: 'ok',
                unsafe: false,
                parsedBy: 'json',
                policyHash: options.policy!.hash,
            } as Assessment;
        },
    };
    const run = await runEval(alwaysSafe, join(dir, 'set.csv'), {
        out: join(dir, 'out'),
        thumbnails: true,
        resamples: 0,
    });
    const html = readFileSync(run.files.report, 'utf8');
    t.equal(
        html.match(/<img class="thumb" alt="" src="data:image\/jpeg;base64,/g)?.length,
        1,
        'one thumbnail: the broken file has none',
    );
    t.notMatch(readFileSync(run.files.records, 'utf8'), 'base64', 'thumbnails stay out of records.jsonl');
    const plain = await runEval(alwaysSafe, join(dir, 'set.csv'), { out: join(dir, 'out2'), resamples: 0 });
    t.notMatch(readFileSync(plain.files.report, 'utf8'), '<img', 'none by default');
});

t.test('with score: true, P(Unsafe) from guard.score gives ROC AUC', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-eval-run-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    for (const [name, text] of [
        ['a', 'Unsafe O3'],
        ['b', 'Safe O6'],
        ['c', 'Unsafe O1'],
        ['d', 'Safe NA'],
    ])
        writeFileSync(join(dir, `${name}.jpg`), text);
    writeFileSync(
        join(dir, 'set.csv'),
        'path,rating,category\na.jpg,Unsafe,O3\nb.jpg,Safe,O6\nc.jpg,Unsafe,O1\nd.jpg,Safe,NA\n',
    );
    const base = fakeGuard();
    // P(Unsafe): a 0.9, b 0.4, c 0.3, d 0.1 -> positives {0.9, 0.3}, negatives {0.4, 0.1}
    // pairs: 0.9 beats both (2), 0.3 beats 0.1 only (1) -> U = 3 of 4, AUC 3/4
    const p: Record<string, number> = { 'Unsafe O3': 0.9, 'Safe O6': 0.4, 'Unsafe O1': 0.3, 'Safe NA': 0.1 };
    const scoring: EvalGuard = {
        ...base,
        assess: base.assess,
        async score(image: ImageInput) {
            const text = Buffer.from(image as Buffer)
                .toString('utf8')
                .trim();
            if (text === 'Unsafe O1' && !p.seen) return Promise.reject(Object.assign(new Error('x'), { name: 'Oops' }));
            return { unsafeProbability: p[text] } as never;
        },
    };
    p.seen = 0;
    const failing = await runEval(scoring, join(dir, 'set.csv'), { out: join(dir, 'o0'), score: true, resamples: 0 });
    t.equal(failing.records[2].score, null, 'a failed score is recorded as null');
    t.equal(failing.records[2].predicted, 'Unsafe', 'and the assessment still counts');
    p.seen = 1;
    const run = await runEval(scoring, join(dir, 'set.csv'), { out: join(dir, 'o1'), score: true, resamples: 100 });
    t.same(
        run.records.map((r) => r.score),
        [0.9, 0.4, 0.3, 0.1],
    );
    t.same([run.metrics.figures.auc.num, run.metrics.figures.auc.den], [3, 4]);
    t.match(readFileSync(run.files.report, 'utf8'), '<section id="roc">');
    await t.rejects(
        runEval({ assess: base.assess }, join(dir, 'set.csv'), { out: join(dir, 'o2'), score: true }),
        /needs a guard with score/,
    );
});
