// `llavaguard eval` end to end with the tiny random-weight onevision model: a generated labelled set
// (12 images, a JSONL manifest), --augment paper, the files it writes (metrics.json, records.jsonl,
// report.html, the latter in headless Chromium when there is one), the printed tables, --compare,
// and the argument errors. The command runs in-process on a fresh commander program (as main.ts
// wires it); the verdicts of a random model mean nothing, so only structure and counts are checked.
process.env.LLAVAGUARD_THREADS ??= '1';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CommanderError } from 'commander';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { registerEval } from '../lib/cli/commands/eval.js';
import type { EvalMetrics } from '../lib/eval/metrics.js';
import type { EvalRecord } from '../lib/eval/run.js';
import { launchChromium, noChromium } from './helpers/chromium.js';
import { runCommand } from './helpers/cli-in-process.js';
import { SET, makeSet } from './helpers/eval-set.js';

const cli = (args: string[]) => runCommand(registerEval, args);

const lines = (text: string) => text.split('\n');

t.test(
    'llavaguard eval: a labelled set with --augment paper, a scored split, --compare, argument errors',
    async (t) => {
        const pair = await cachedTestModel('onevision');
        const dir = t.testdir({});
        const { manifest, policy, policyFile } = await makeSet(dir);
        const model = [
            '--model',
            pair.model,
            '--mmproj',
            pair.mmproj,
            '--threads',
            '1',
            '--policy',
            policyFile,
            '--max-rationale-chars',
            '12',
        ];
        const out1 = join(dir, 'run-paper');
        const out2 = join(dir, 'run-scored');

        await t.test(
            'eval --augment paper writes metrics, one record per (image, policy), a report, and prints the table',
            async (t) => {
                const r = await cli([
                    'eval',
                    manifest,
                    ...model,
                    '--out',
                    out1,
                    '--augment',
                    'paper',
                    '--seed',
                    '7',
                    '--resamples',
                    '200',
                    '--thumbnails',
                    '--title',
                    'E2E <eval>',
                ]);
                t.equal(r.error, null, r.error?.stack ?? '');
                t.match(r.stderr, /random weights/, 'the random-weights note');

                const metrics = JSON.parse(await readFile(join(out1, 'metrics.json'), 'utf8')) as EvalMetrics;
                t.match(
                    metrics,
                    {
                        format: 'llavaguard-eval-metrics',
                        version: 1,
                        n: 20,
                        invalid: 'wrong',
                        bootstrap: { resamples: 200, seed: 7, level: 0.95, method: 'percentile', unit: 'group' },
                    },
                    '12 originals + 4 v2 + 4 v4',
                );
                t.same(Object.keys(metrics.byKind), ['original', 'v2', 'v4']);
                t.same([metrics.byKind.original!.den, metrics.byKind.v2!.den, metrics.byKind.v4!.den], [12, 4, 4]);
                const f = metrics.figures;
                t.same(Object.keys(f).sort(), [
                    'accuracy',
                    'auc',
                    'balancedAccuracy',
                    'categoryAccuracy',
                    'f1',
                    'per',
                    'precision',
                    'recall',
                    'specificity',
                    'unparseable',
                ]);
                t.equal(f.recall.den, 8, 'positives: 4 unsafe originals + 4 v4');
                t.equal(f.specificity.den, 12, 'negatives: 8 safe originals + 4 v2');
                t.equal(f.per.den, 8, 'PER over v2 + v4');
                t.equal(f.per.num, metrics.byKind.v2!.num + metrics.byKind.v4!.num);
                t.equal(f.categoryAccuracy.den, 8);
                t.same([f.unparseable.num, f.unparseable.den], [0, 20], 'grammar-constrained answers all parse');
                t.same(f.auc, { value: null, num: 0, den: 0, ci: null }, 'no AUC without --score');
                t.equal(metrics.roc, null);
                const c = metrics.confusion;
                t.same([c.tp + c.fn, c.tn + c.fp, c.tp + c.tn], [8, 12, f.accuracy.num]);
                for (const name of ['balancedAccuracy', 'recall', 'specificity', 'per'] as const) {
                    const fig = f[name];
                    t.ok(fig.value! >= 0 && fig.value! <= 1, `${name} is a proportion`);
                    if (fig.ci)
                        t.ok(
                            fig.ci.low <= fig.value! + 1e-9 &&
                                fig.value! <= fig.ci.high + 1e-9 &&
                                fig.ci.level === 0.95,
                            `${name} lies in its interval`,
                        );
                }
                t.same(Object.keys(metrics.perCategory), [
                    'O1: Hate, Humiliation, Harassment',
                    'O2: Violence, Harm, or Cruelty',
                    'O3: Sexual Content',
                    'O4: Nudity Content',
                    'O6: Weapons or Substance Abuse',
                    'O7: Self-Harm',
                    'O9: Disasters or Emergencies',
                ]);
                t.equal(metrics.perCategory['O3: Sexual Content'].den, 2, 'u1 and s1#v4');
                t.same(Object.keys(metrics.bySeverity), [
                    'Highly Inappropriate',
                    'Moderately Inappropriate',
                    'Barely Acceptable',
                    'Generally Acceptable',
                ]);

                const records = (await readFile(join(out1, 'records.jsonl'), 'utf8'))
                    .trimEnd()
                    .split('\n')
                    .map((l) => JSON.parse(l) as EvalRecord);
                t.equal(records.length, 20, 'one line per (image, policy)');
                t.equal(
                    new Set(records.map((x) => `${x.sample}|${x.policyHash}`)).size,
                    20,
                    'no (image, policy) twice',
                );
                t.same(
                    records.filter((x) => x.kind === 'original').map((x) => x.sample),
                    SET.map(([file]) => `img/${file}`),
                );
                for (const x of records) {
                    const id = x.expectedCategory.split(':')[0];
                    const want = x.kind === 'v2' ? policy.allow(id) : x.kind === 'v4' ? policy.sensitive(id) : policy;
                    t.equal(x.policyHash, want.hash, `${x.id}: assessed under the ${x.kind} policy built on --policy`);
                    t.equal(x.error, null, `${x.id}: assessed`);
                    t.match(x.predicted, /^(Safe|Unsafe)$/);
                }
                // the augmented copies: v2 allows an unsafe image's category (now Safe), v4 marks a safe image's
                // category sensitive (now Unsafe); each as "sample expected categories"
                const augmented = (kind: 'v2' | 'v4') =>
                    records
                        .filter((x) => x.kind === kind)
                        .map((x) => [x.sample, x.expected, kind === 'v2' ? x.allowed : x.sensitive].join(' '));
                for (const [kind, samples] of [
                    ['v2', 'img/u1.png Safe O3, img/u2.jpg Safe O2, img/u3.webp Safe O1, img/u4.png Safe O6'],
                    ['v4', 'img/s1.jpg Unsafe O3, img/s2.png Unsafe O4, img/s3.webp Unsafe O7, img/s4.jpg Unsafe O9'],
                ] as const) {
                    t.same(augmented(kind), samples.split(', '), `the ${kind} copies`);
                }

                // the printed table: a row per headline figure with its count, and the files
                const row = (label: string) => lines(r.stdout).find((l) => l.startsWith(`${label}  `)) ?? '';
                const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
                t.match(r.stdout, /^Metric\s+Value\s+95% CI\s+Count$/m);
                for (const [label, name] of [
                    ['Recall (unsafe)', 'recall'],
                    ['Precision', 'precision'],
                    ['F1', 'f1'],
                    ['Specificity', 'specificity'],
                    ['PER', 'per'],
                    ['Category accuracy', 'categoryAccuracy'],
                    ['Unparseable', 'unparseable'],
                ] as const) {
                    const fig = f[name];
                    t.ok(
                        row(label).includes(pct(fig.value)) && row(label).endsWith(`${fig.num}/${fig.den}`),
                        `${label}: ${row(label)}`,
                    );
                }
                t.match(
                    row('Balanced accuracy'),
                    new RegExp(
                        `${pct(f.balancedAccuracy.value).replace('.', '\\.')}.*\\(TP ${c.tp}/8 \\+ TN ${c.tn}/12\\) / 2$`,
                    ),
                );
                t.notMatch(r.stdout, /ROC AUC/, 'no AUC row without --score');
                t.match(
                    r.stdout,
                    /20 records; unparseable outputs counted as wrong; 95% percentile intervals from 200 bootstrap resamples of source images/,
                );
                t.match(
                    r.stdout,
                    new RegExp(`Confusion \\(Unsafe = positive\\): TP ${c.tp}  FN ${c.fn}  TN ${c.tn}  FP ${c.fp}`),
                );
                t.match(r.stdout, /^Accuracy v2\s.*\d+\/4$/m);
                t.match(r.stdout, /^Recall O3: Sexual Content\s.*\d+\/2$/m);
                t.match(r.stdout, /^report: {2}.*report\.html$/m);

                await t.test('report.html in headless Chromium', { skip: noChromium }, async (t) => {
                    const browser = await launchChromium();
                    t.teardown(() => browser.close());
                    const page = await browser.newPage();
                    const problems: string[] = [];
                    page.on('console', (m) => {
                        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
                    });
                    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
                    page.on('requestfailed', (req) =>
                        problems.push(`requestfailed: ${req.url()} ${req.failure()?.errorText}`),
                    );
                    await page.goto(pathToFileURL(join(out1, 'report.html')).href, { waitUntil: 'load' });
                    t.equal(await page.title(), 'E2E <eval>');
                    t.equal(await page.locator('#metrics tbody tr').count(), 10, 'a row per figure');
                    t.equal(await page.locator('#kinds tbody tr').count(), 3, 'original, v2, v4');
                    t.match(await page.locator('#confusion').innerText(), new RegExp(`TP ${c.tp}`));
                    const wrong = records.filter((x) => x.predicted !== x.expected).length;
                    t.match(await page.locator('#misclassified h2').innerText(), `(${wrong} of 20)`);
                    const thumbs = await page
                        .locator('img.thumb')
                        .evaluateAll((imgs) =>
                            (imgs as HTMLImageElement[]).map((i) => i.complete && i.naturalWidth > 0),
                        );
                    t.ok(thumbs.every(Boolean), `${thumbs.length} thumbnails loaded`);
                    t.same(problems, [], 'no console errors, page errors or failed requests');
                    const width = await page.evaluate(() => document.documentElement.scrollWidth);
                    t.ok(width <= 1280, `no horizontal scroll bar in a 1280-pixel window (page ${width} px wide)`);
                });
            },
        );

        await t.test('eval --split b --score: AUC, then --compare prints both runs side by side', async (t) => {
            const r = await cli([
                'eval',
                manifest,
                ...model,
                '--out',
                out2,
                '--split',
                'b',
                '--score',
                '--resamples',
                '200',
            ]);
            t.equal(r.error, null, r.error?.stack ?? '');
            const metrics = JSON.parse(await readFile(join(out2, 'metrics.json'), 'utf8')) as EvalMetrics;
            t.equal(metrics.n, 4);
            t.same(Object.keys(metrics.byKind), ['original']);
            t.equal(metrics.bootstrap.unit, 'group');
            t.equal(metrics.figures.auc.den, 4, '2 positives x 2 negatives, all scored');
            t.ok(Array.isArray(metrics.roc) && metrics.roc.length > 0, 'a threshold table');
            const records = (await readFile(join(out2, 'records.jsonl'), 'utf8'))
                .trimEnd()
                .split('\n')
                .map((l) => JSON.parse(l) as EvalRecord);
            t.same(
                records.map((x) => x.sample),
                ['img/u1.png', 'img/u4.png', 'img/s1.jpg', 'img/n1.png'],
            );
            t.ok(
                records.every((x) => typeof x.score === 'number' && x.score >= 0 && x.score <= 1),
                'P(Unsafe) recorded',
            );
            t.match(r.stdout, new RegExp(`^ROC AUC\\s.*${metrics.figures.auc.num}/4 pairs$`, 'm'));

            const cmp = await cli(['eval', '--compare', out1, out2]);
            t.equal(cmp.error, null, cmp.error?.stack ?? '');
            const table = lines(cmp.stdout);
            t.match(cmp.stdout, /^Metric\s+run-paper\s+run-scored\s+run-scored-run-paper \(pp\)\s+CI overlap$/m);
            for (const label of [
                'Balanced accuracy',
                'Recall (unsafe)',
                'PER (policy exception rate)',
                'ROC AUC',
                'Accuracy original',
                'Accuracy v2',
                'Recall O3: Sexual Content',
            ]) {
                t.ok(
                    table.some((l) => l.startsWith(label)),
                    `a ${label} row`,
                );
            }
            t.match(
                table.find((l) => l.startsWith('PER')),
                /\(\d+\/8\)\s+n\/a\s+n\/a\s+-$/,
                'PER: only run A has variants',
            );
            t.match(
                table.find((l) => l.startsWith('ROC AUC')),
                /^ROC AUC\s+n\/a\s+\d+\.\d%.*\(\S+\/4\)\s+n\/a\s+-$/,
            );
            const viaFile = await cli(['eval', '--compare', join(out1, 'metrics.json'), join(out2, 'metrics.json')]);
            t.equal(viaFile.error, null);
            t.match(viaFile.stdout, /^Metric\s+A\s+B\s+B-A \(pp\)/m, 'metrics.json paths work too (labelled A and B)');
        });

        await t.test('bad arguments are explained before the model loads', async (t) => {
            const bad = async (args: string[], message: RegExp, what: string) => {
                const r = await cli(args);
                t.ok(r.error, `${what}: fails`);
                t.match(`${r.error?.message}\n${r.stderr}`, message, what);
                return r;
            };
            const help = await cli(['eval', '--help']);
            t.ok(help.error instanceof CommanderError && help.error.exitCode === 0, '--help exits 0');
            t.match(help.stdout, /Usage: llavaguard eval <manifest> --model <file> --mmproj <file> --out <dir>/);
            for (const o of [
                '--compare',
                '--augment <mode>',
                '--score',
                '--split <name>',
                '--seed <n>',
                '--threads <n>',
                '--max-tokens <n>',
                '--policy <file>',
            ])
                t.ok(help.stdout.includes(o), `--help lists ${o}`);

            await bad(['eval'], /missing the manifest/, 'no manifest');
            await bad(['eval', manifest, '--model', pair.model, '--out', out1], /eval needs --mmproj/, 'no --mmproj');
            await bad(
                ['eval', manifest, manifest, ...model, '--out', out1],
                /one manifest, got 2.*--compare\?/,
                'two manifests',
            );
            await bad(
                ['eval', manifest, ...model, '--out', out1, '--augment', 'all'],
                /'all' is invalid\. Allowed choices are none, paper/,
                'bad --augment',
            );
            await bad(
                ['eval', manifest, ...model, '--out', out1, '--seed', '-1'],
                /--seed must be an integer/,
                'bad --seed',
            );
            await bad(
                ['eval', manifest, ...model, '--out', out1, '--augment', 'paper', '--kinds', 'v2,v9'],
                /unknown variant "v9"/,
                'bad --kinds',
            );
            await bad(
                ['eval', manifest, ...model, '--out', join(dir, 'x'), '--split', 'zzz'],
                /no samples in split "zzz".*splits: b, a/,
                'unknown split',
            );
            await bad(
                ['eval', join(dir, 'nope.jsonl'), ...model, '--out', join(dir, 'x')],
                /manifest .*nope\.jsonl does not exist/,
                'missing manifest',
            );
            const broken = join(dir, 'broken.jsonl');
            await writeFile(
                broken,
                '{"path":"img/u1.png","rating":"Unsafe","category":"NA"}\n{"path":"img/n1.png","rating":"maybe"}\n',
            );
            await bad(
                ['eval', broken, ...model, '--out', join(dir, 'x')],
                /broken\.jsonl:1 field "category".*\n.*broken\.jsonl:2 field "rating"/,
                'manifest problems with their lines',
            );
            await bad(
                ['eval', manifest, ...model, '--out', manifest],
                /--out .*set\.jsonl exists and is not a folder/,
                '--out is a file',
            );
            await bad(
                ['eval', '--compare', out1],
                /--compare needs two output folders.*got 1/,
                'one folder to compare',
            );
            await bad(
                ['eval', '--compare', out1, out2, '--model', pair.model],
                /takes no --model/,
                '--compare with --model',
            );
            await bad(['eval', '--compare', out1, join(dir, 'nothing')], /nothing does not exist/, 'missing folder');
            await bad(['eval', '--compare', out1, dir], /has no metrics\.json/, 'a folder without metrics.json');
            t.notOk(existsSync(join(dir, 'x')), 'nothing was written for the failed runs');
        });
    },
);
