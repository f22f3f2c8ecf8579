// Two metrics.json side by side: the difference of every figure (B - A) and whether their
// intervals overlap. Non-overlapping 95% intervals are a conservative sign of a real difference;
// overlapping ones do not prove there is none (this is not a paired test).
import { readFile } from 'node:fs/promises';
import { FIGURE_NAMES, METRICS_FORMAT, type EvalMetrics, type Figure } from './metrics.js';
import { FIGURE_LABELS } from './report-html.js';

export interface ComparisonRow {
    /** Stable key: a figure name, `kind:v2`, or `recall:<category>`. */
    key: string;
    label: string;
    a: Figure | null;
    b: Figure | null;
    /** b.value - a.value; null when either is undefined. */
    diff: number | null;
    /** Whether the two intervals overlap; null when either has none. */
    overlap: boolean | null;
}

export interface Comparison {
    labels: [string, string];
    rows: ComparisonRow[];
}

export function compareMetrics(
    a: EvalMetrics,
    b: EvalMetrics,
    options: { labels?: [string, string] } = {},
): Comparison {
    for (const [m, side] of [
        [a, 'A'],
        [b, 'B'],
    ] as const) {
        if (m?.format !== METRICS_FORMAT) throw new TypeError(`metrics ${side} is not a ${METRICS_FORMAT} object`);
    }
    const rows: ComparisonRow[] = [];
    const add = (key: string, label: string, fa: Figure | undefined, fb: Figure | undefined) => {
        const va = fa?.value ?? null;
        const vb = fb?.value ?? null;
        const overlap = fa?.ci && fb?.ci ? fa.ci.low <= fb.ci.high && fb.ci.low <= fa.ci.high : null;
        rows.push({
            key,
            label,
            a: fa ?? null,
            b: fb ?? null,
            diff: va !== null && vb !== null ? vb - va : null,
            overlap,
        });
    };
    for (const name of FIGURE_NAMES) add(name, FIGURE_LABELS[name], a.figures[name], b.figures[name]);
    const kinds = ['original', 'v2', 'v3', 'v4', 'v5'] as const;
    for (const k of kinds) {
        if (a.byKind[k] || b.byKind[k]) add(`kind:${k}`, `Accuracy ${k}`, a.byKind[k], b.byKind[k]);
    }
    const cats = [...new Set([...Object.keys(a.perCategory), ...Object.keys(b.perCategory)])].sort((x, y) =>
        x.localeCompare(y, 'en', { numeric: true }),
    );
    for (const c of cats) add(`recall:${c}`, `Recall ${c}`, a.perCategory[c], b.perCategory[c]);
    const sa = a.bySeverity ?? {};
    const sb = b.bySeverity ?? {};
    for (const x of [...new Set([...Object.keys(sa), ...Object.keys(sb)])])
        add(`severity:${x}`, `Accuracy ${x}`, sa[x], sb[x]);
    return { labels: options.labels ?? ['A', 'B'], rows };
}

/** Reads a metrics.json written by runEval (or JSON.stringify(computeMetrics(...))). */
export async function loadMetrics(path: string): Promise<EvalMetrics> {
    const json = JSON.parse(await readFile(path, 'utf8')) as EvalMetrics;
    if (json?.format !== METRICS_FORMAT) throw new TypeError(`${path} is not a ${METRICS_FORMAT} file`);
    return json;
}

/** A plain-text table: metric | A | B | B-A (percentage points) | intervals overlap. */
export function formatComparison(cmp: Comparison, options: { digits?: number } = {}): string {
    const digits = options.digits ?? 1;
    const cell = (f: Figure | null) => {
        if (!f) return '-';
        if (f.value === null) return 'n/a';
        const p = (v: number) => (v * 100).toFixed(digits);
        return `${p(f.value)}%${f.ci ? ` [${p(f.ci.low)}, ${p(f.ci.high)}]` : ''} (${fmt(f.num)}/${fmt(f.den)})`;
    };
    const header = ['Metric', cmp.labels[0], cmp.labels[1], `${cmp.labels[1]}-${cmp.labels[0]} (pp)`, 'CI overlap'];
    const body = cmp.rows.map((r) => [
        r.label,
        cell(r.a),
        cell(r.b),
        r.diff === null ? 'n/a' : `${r.diff > 0 ? '+' : ''}${(r.diff * 100).toFixed(digits)}`,
        r.overlap === null ? '-' : r.overlap ? 'yes' : 'NO',
    ]);
    const all = [header, ...body];
    const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
    const line = (row: string[]) =>
        row
            .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
            .join('  ')
            .trimEnd();
    return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
