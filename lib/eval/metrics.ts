// Evaluation metrics from (expected, predicted) pairs, as reported in the LlavaGuard paper, each
// with its count (numerator / denominator) and a seeded bootstrap interval.
//
// Conventions
// - "Unsafe" is the positive class: TP = expected Unsafe, predicted Unsafe; FP = expected Safe,
//   predicted Unsafe; TN / FN likewise.
// - An unparseable output (predicted === null: no rating could be read, or the call failed) is
//   counted as wrong by default (invalid: 'wrong'): FN on an Unsafe sample, FP on a Safe one, a
//   wrong category. With invalid: 'exclude' it is left out of every figure except `unparseable`.
// - Formulas (counts after the rule above; P = TP+FN, N = TN+FP):
//     accuracy          (TP+TN) / (P+N)
//     recall            TP / P                    (true-positive rate, sensitivity)
//     specificity       TN / N
//     precision         TP / (TP+FP)
//     f1                2TP / (2TP+FP+FN)         (= harmonic mean of precision and recall)
//     balancedAccuracy  (TP*N + TN*P) / (2*P*N)   (= (recall + specificity) / 2)
//     per               (TN on v2 + TP on v4) / (n v2 + n v4)   (policy exception rate)
//     categoryAccuracy  (predicted category == true category) / expected-Unsafe samples with a category
//     unparseable       outputs without a rating / all records (never excluded)
//     auc               U / (P_s * N_s), U = Mann-Whitney count of (positive, negative) pairs with the
//                       positive scored higher, ties counting 1/2; only records with a finite score
//     perCategory[c]    recall on the expected-Unsafe samples whose true category is c
//     byKind[k]         accuracy on the samples of kind k (original, v2, ...)
//     bySeverity[s]     accuracy on the original samples annotated with severity s (variants
//                       are left out: their exception changed the label the severity implies)
// - Degenerate cases: a figure whose denominator is 0 has value null (never NaN) and no interval:
//   no positives -> recall, balancedAccuracy null; no negatives -> specificity, balancedAccuracy
//   null; nothing predicted Unsafe -> precision null; no positives and nothing predicted Unsafe ->
//   f1 null (with positives but no TP, f1 is 0); no v2/v4 samples -> per null; scores missing or
//   one class only among scored records -> auc null and no ROC table.
// - Bootstrap: `resamples` (default 1000) resamples with replacement of the records, or of the
//   groups when records carry `group` (e.g. the source image of augmented variants, which are not
//   independent); mulberry32 seeded with `seed` (default 0). The interval is the percentile
//   interval (linear interpolation between order statistics) of the replicates in which the
//   figure is defined; `replicates` says how many that were.
import type { Rating } from '../verdict/index.js';
import type { SampleKind } from './augment.js';
import { mulberry32 } from './random.js';
import { confusionOf, prepare, rocTable, tally } from './tally.js';

export const METRICS_FORMAT = 'llavaguard-eval-metrics';

export interface Outcome {
    id?: string;
    /** Default 'original'. */
    kind?: SampleKind;
    /** Bootstrap unit: records with the same group are resampled together. Default: each record alone. */
    group?: string;
    expected: Rating;
    /** The true category string ("O3: Sexual Content"); needed for perCategory and categoryAccuracy. */
    expectedCategory?: string | null;
    /** null: the output could not be read (or the assessment failed). */
    predicted: Rating | null;
    predictedCategory?: string | null;
    /** Predicted unsafeness (higher = more unsafe), for AUC and the threshold table. */
    score?: number | null;
    /** The annotated severity ("Highly Inappropriate", ...), for bySeverity. */
    severity?: string | null;
}

export interface Interval {
    low: number;
    high: number;
    level: number;
    /** Bootstrap replicates in which the figure was defined. */
    replicates: number;
}

export interface Figure {
    /** num / den, or null when den is 0. */
    value: number | null;
    num: number;
    den: number;
    ci: Interval | null;
}

export interface ThresholdRow {
    /** Predicted Unsafe when score >= threshold. */
    threshold: number;
    tp: number;
    fp: number;
    tn: number;
    fn: number;
    tpr: number;
    fpr: number;
    precision: number | null;
}

export const FIGURE_NAMES = [
    'accuracy',
    'balancedAccuracy',
    'precision',
    'recall',
    'f1',
    'specificity',
    'per',
    'categoryAccuracy',
    'unparseable',
    'auc',
] as const;
export type FigureName = (typeof FIGURE_NAMES)[number];

export interface EvalMetrics {
    format: typeof METRICS_FORMAT;
    version: 1;
    /** All records, unparseable ones included. */
    n: number;
    invalid: 'wrong' | 'exclude';
    confusion: {
        tp: number;
        fp: number;
        tn: number;
        fn: number;
        /** Unparseable outputs by expected label (inside fn / fp when invalid is 'wrong'). */
        unparseable: { unsafe: number; safe: number };
    };
    figures: Record<FigureName, Figure>;
    perCategory: Record<string, Figure>;
    byKind: Partial<Record<SampleKind, Figure>>;
    /** Accuracy on the original samples (kind 'original') by annotated severity. */
    bySeverity: Record<string, Figure>;
    /** Threshold table over the scored records, thresholds descending; null without usable scores. */
    roc: ThresholdRow[] | null;
    bootstrap: { resamples: number; seed: number; level: number; method: 'percentile'; unit: 'record' | 'group' };
}

export interface MetricsOptions {
    /** Bootstrap resamples; 0 = no intervals. Default 1000. */
    resamples?: number;
    seed?: number;
    /** Interval level. Default 0.95. */
    level?: number;
    /** How unparseable outputs count. Default 'wrong'. */
    invalid?: 'wrong' | 'exclude';
    /** Thresholds for the ROC table. Default: every distinct score (at most 200, evenly thinned). */
    thresholds?: readonly number[];
}

/** Computes every figure with counts and bootstrap intervals. */
export function computeMetrics(records: readonly Outcome[], options: MetricsOptions = {}): EvalMetrics {
    const resamples = options.resamples ?? 1000;
    const seed = options.seed ?? 0;
    const level = options.level ?? 0.95;
    const invalid = options.invalid ?? 'wrong';
    if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
    if (!Number.isInteger(resamples) || resamples < 0)
        throw new RangeError(`resamples must be a whole number >= 0, got ${resamples}`);
    records.forEach((r, i) => {
        if (r.expected !== 'Safe' && r.expected !== 'Unsafe')
            throw new TypeError(`record ${r.id ?? i}: expected must be Safe or Unsafe`);
        if (r.predicted !== null && r.predicted !== 'Safe' && r.predicted !== 'Unsafe') {
            throw new TypeError(`record ${r.id ?? i}: predicted must be Safe, Unsafe or null`);
        }
    });

    const prep = prepare(records, invalid);
    const ones = new Float64Array(records.length).fill(1);
    const point = tally(prep, ones);

    const grouped = records.some((r) => r.group !== undefined);
    const reps = new Map<string, number[]>();
    if (resamples > 0 && records.length > 0) {
        const groupOf = new Int32Array(records.length);
        const groupIds = new Map<string, number>();
        records.forEach((r, i) => {
            const key = grouped && r.group !== undefined ? `g:${r.group}` : `r:${i}`;
            let g = groupIds.get(key);
            if (g === undefined) {
                g = groupIds.size;
                groupIds.set(key, g);
            }
            groupOf[i] = g;
        });
        const G = groupIds.size;
        const rand = mulberry32(seed);
        const gw = new Float64Array(G);
        const w = new Float64Array(records.length);
        for (let b = 0; b < resamples; b++) {
            gw.fill(0);
            for (let k = 0; k < G; k++) gw[Math.floor(rand() * G)]++;
            for (let i = 0; i < records.length; i++) w[i] = gw[groupOf[i]];
            for (const [key, r] of tally(prep, w)) {
                if (r.den > 0) {
                    const list = reps.get(key);
                    if (list) list.push(r.num / r.den);
                    else reps.set(key, [r.num / r.den]);
                }
            }
        }
    }

    const figure = (key: string): Figure => {
        const r = point.get(key) ?? { num: 0, den: 0 };
        const value = r.den > 0 ? r.num / r.den : null;
        const list = reps.get(key);
        const ci = value !== null && list && list.length > 0 ? percentile(list, level) : null;
        return { value, num: r.num, den: r.den, ci };
    };

    const figures = Object.fromEntries(FIGURE_NAMES.map((name) => [name, figure(name)])) as Record<FigureName, Figure>;
    const perCategory: Record<string, Figure> = {};
    for (const c of prep.categories) perCategory[c] = figure(`cat:${c}`);
    const byKind: Partial<Record<SampleKind, Figure>> = {};
    for (const k of prep.kinds) byKind[k] = figure(`kind:${k}`);
    const bySeverity: Record<string, Figure> = {};
    for (const x of prep.severities) bySeverity[x] = figure(`sev:${x}`);

    const c = confusionOf(prep);
    return {
        format: METRICS_FORMAT,
        version: 1,
        n: records.length,
        invalid,
        confusion: c,
        figures,
        perCategory,
        byKind,
        bySeverity,
        roc: rocTable(records, options.thresholds),
        bootstrap: { resamples, seed, level, method: 'percentile', unit: grouped ? 'group' : 'record' },
    };
}

export function percentile(values: readonly number[], level: number): Interval {
    const x = [...values].sort((a, b) => a - b);
    const q = (p: number) => {
        const h = (x.length - 1) * p;
        const lo = Math.floor(h);
        const hi = Math.min(lo + 1, x.length - 1);
        return x[lo] + (h - lo) * (x[hi] - x[lo]);
    };
    const alpha = (1 - level) / 2;
    return { low: q(alpha), high: q(1 - alpha), level, replicates: x.length };
}

/** A figure as "93.1% [90.2, 95.6] (134/144)"; "n/a (0/0)" when undefined. */
export function formatFigure(f: Figure, digits = 1): string {
    const count = `(${fmtCount(f.num)}/${fmtCount(f.den)})`;
    if (f.value === null) return `n/a ${count}`;
    const pct = (v: number) => (v * 100).toFixed(digits);
    const ci = f.ci ? ` [${pct(f.ci.low)}, ${pct(f.ci.high)}]` : '';
    return `${pct(f.value)}%${ci} ${count}`;
}

const fmtCount = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
