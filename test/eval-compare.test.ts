import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { compareMetrics, formatComparison, loadMetrics } from '../lib/eval/compare.js';
import { computeMetrics, type EvalMetrics, type Outcome } from '../lib/eval/metrics.js';
import type { Rating } from '../lib/verdict/index.js';

const many = (n: number, expected: Rating, predicted: Rating, extra: Partial<Outcome> = {}): Outcome[] =>
    Array.from({ length: n }, () => ({ expected, predicted, ...extra }));
const O3 = 'O3: Sexual Content';
const O7 = 'O7: Self-Harm';

// A: recall 20/40 (O3 only), B: recall 38/40 (O3 and O7); both 50/50 specificity
const A = computeMetrics(
    [
        ...many(20, 'Unsafe', 'Unsafe', { expectedCategory: O3 }),
        ...many(20, 'Unsafe', 'Safe', { expectedCategory: O3 }),
        ...many(50, 'Safe', 'Safe'),
    ],
    { seed: 1, resamples: 300 },
);
const B = computeMetrics(
    [
        ...many(19, 'Unsafe', 'Unsafe', { expectedCategory: O3 }),
        ...many(19, 'Unsafe', 'Unsafe', { expectedCategory: O7 }),
        ...many(2, 'Unsafe', 'Safe', { expectedCategory: O7 }),
        ...many(50, 'Safe', 'Safe'),
    ],
    { seed: 1, resamples: 300 },
);

t.test('differences are B - A and non-overlapping intervals are flagged', async (t) => {
    const cmp = compareMetrics(A, B, { labels: ['0.5B', '7B'] });
    const recall = cmp.rows.find((r) => r.key === 'recall')!;
    // 38/40 - 20/40 = 0.95 - 0.5 = 0.45
    t.ok(Math.abs(recall.diff! - 0.45) < 1e-12);
    t.equal(recall.overlap, false, `A ${JSON.stringify(recall.a!.ci)} vs B ${JSON.stringify(recall.b!.ci)}`);
    const spec = cmp.rows.find((r) => r.key === 'specificity')!;
    t.equal(spec.diff, 0);
    t.equal(spec.overlap, true, 'identical figures overlap');
    const per = cmp.rows.find((r) => r.key === 'per')!;
    t.same([per.diff, per.overlap], [null, null], 'undefined on both sides');
    const o7 = cmp.rows.find((r) => r.key === `recall:${O7}`)!;
    t.equal(o7.a, null, 'a category only B has');
    t.equal(o7.diff, null);
    t.same(
        cmp.rows.filter((r) => r.key.startsWith('recall:')).map((r) => r.key),
        [`recall:${O3}`, `recall:${O7}`],
    );
});

t.test('overlap is decided on the interval bounds', async (t) => {
    const fig = (low: number, high: number) => ({
        value: (low + high) / 2,
        num: 1,
        den: 2,
        ci: { low, high, level: 0.95, replicates: 10 },
    });
    const with_ = (m: EvalMetrics, low: number, high: number): EvalMetrics => ({
        ...m,
        figures: { ...m.figures, accuracy: fig(low, high) },
    });
    const row = (a: [number, number], b: [number, number]) =>
        compareMetrics(with_(A, ...a), with_(B, ...b)).rows.find((r) => r.key === 'accuracy')!.overlap;
    t.equal(row([0.1, 0.3], [0.3, 0.5]), true, 'touching');
    t.equal(row([0.1, 0.3], [0.31, 0.5]), false);
    t.equal(row([0.4, 0.6], [0.1, 0.9]), true, 'nested');
});

t.test('formatComparison prints an aligned table', async (t) => {
    const text = formatComparison(compareMetrics(A, B, { labels: ['0.5B', '7B'] }));
    const lines = text.trimEnd().split('\n');
    t.match(lines[0], /^Metric\s+0\.5B\s+7B\s+7B-0\.5B \(pp\)\s+CI overlap$/);
    const recall = lines.find((l) => l.startsWith('Recall (unsafe)'))!;
    t.match(recall, /50\.0% \[[\d.]+, [\d.]+\] \(20\/40\)/);
    t.match(recall, /95\.0% \[[\d.]+, [\d.]+\] \(38\/40\)/);
    t.match(recall, /\+45\.0\s+NO$/);
    t.match(lines.find((l) => l.startsWith('PER'))!, /n\/a\s+n\/a\s+n\/a\s+-$/);
    t.match(lines.find((l) => l.startsWith(`Recall ${O7}`))!, /^Recall O7: Self-Harm\s+-\s+/);
    const widths = new Set(lines.slice(0, 2).map((l) => l.length));
    t.equal(widths.size, 1, 'header and rule are equally wide');
});

t.test('loadMetrics reads a metrics.json and rejects other JSON', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-eval-compare-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'm.json'), JSON.stringify(A));
    writeFileSync(join(dir, 'x.json'), '{"a":1}');
    t.same(await loadMetrics(join(dir, 'm.json')), JSON.parse(JSON.stringify(A)));
    await t.rejects(loadMetrics(join(dir, 'x.json')), /is not a llavaguard-eval-metrics file/);
    t.throws(() => compareMetrics(A, {} as EvalMetrics), /metrics B is not/);
});

t.test('kinds and annotated severities get their own rows', async (t) => {
    const m = (right: number) =>
        computeMetrics(
            [
                ...many(right, 'Unsafe', 'Unsafe', { severity: 'Highly Inappropriate' }),
                ...many(4 - right, 'Unsafe', 'Safe', { severity: 'Highly Inappropriate' }),
                ...many(2, 'Safe', 'Safe', { kind: 'v2' }),
            ],
            { resamples: 0 },
        );
    const cmp = compareMetrics(m(1), m(3));
    const sev = cmp.rows.find((r) => r.key === 'severity:Highly Inappropriate')!;
    // 3/4 - 1/4 = 0.5; no intervals without resamples
    t.same([sev.diff, sev.overlap], [0.5, null]);
    t.same(
        cmp.rows.filter((r) => r.key.startsWith('kind:')).map((r) => r.key),
        ['kind:original', 'kind:v2'],
    );
});
