// A self-contained static HTML report of an evaluation: no scripts, no external assets (a
// Content-Security-Policy forbids loading any), charts as inline SVG, every text escaped.
import { escapeHtml, htmlPage } from '../util/html.js';
import type { Rating } from '../verdict/index.js';
import type { SampleKind } from './augment.js';
import { FIGURE_NAMES, type EvalMetrics, type Figure, type FigureName } from './metrics.js';

export interface ReportRecord {
    id: string;
    image?: string;
    kind?: SampleKind;
    expected: Rating;
    predicted: Rating | null;
    expectedCategory?: string | null;
    predictedCategory?: string | null;
    rationale?: string | null;
    /** Why there is no prediction (the assessment failed). */
    error?: string | null;
    policyHash?: string;
    /** Optional thumbnail as a data:image/(png|jpeg|gif|webp);base64 URL; anything else is ignored. */
    thumb?: string;
}

export interface ReportOptions {
    title?: string;
    /** Records for the misclassified-samples section. */
    records?: readonly ReportRecord[];
    /** At most this many misclassified samples are listed. Default 500. */
    maxMisclassified?: number;
    /** Free-form lines shown under the title (model, manifest, date...). */
    meta?: Readonly<Record<string, string>>;
}

export const FIGURE_LABELS: Readonly<Record<FigureName, string>> = Object.freeze({
    accuracy: 'Accuracy',
    balancedAccuracy: 'Balanced accuracy',
    precision: 'Precision',
    recall: 'Recall (unsafe)',
    f1: 'F1',
    specificity: 'Specificity',
    per: 'PER (policy exception rate)',
    categoryAccuracy: 'Category accuracy (unsafe)',
    unparseable: 'Unparseable outputs',
    auc: 'ROC AUC',
});

export { escapeHtml };

const DATA_IMAGE = /^data:image\/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

const pct = (v: number | null | undefined, digits = 1) =>
    v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(digits)}%`;
const count = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

export function renderReport(metrics: EvalMetrics, options: ReportOptions = {}): string {
    const title = options.title ?? 'LlavaGuard evaluation';
    const sections = [
        header(title, metrics, options.meta),
        metricTable(metrics),
        confusion(metrics),
        kindTable(metrics),
        severityTable(metrics),
        categoryBars(metrics),
        metrics.roc ? rocCurve(metrics) : '',
        options.records ? misclassified(options.records, options.maxMisclassified ?? 500) : '',
    ];
    return htmlPage({
        title,
        csp: "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
        css: CSS,
        body: sections.filter(Boolean).join('\n'),
    });
}

// Long words (a random model's rationale, deep dataset paths) wrap anywhere rather than widen the page.
const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
h1,.meta,#misclassified td{overflow-wrap:anywhere}
#misclassified table{table-layout:fixed;width:100%}#misclassified th.pic{width:114px}#misclassified th.none{width:1em}
#misclassified th.sample{width:24%}#misclassified th.kind{width:5.5em}#misclassified th.rating{width:14%}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.meta{color:#555}.muted{color:#888}.bad{color:#a00}
td.rationale{white-space:pre-wrap}img.thumb{max-width:96px;max-height:96px}
svg{max-width:100%;height:auto}svg text{font:12px system-ui,sans-serif}
`;

function header(title: string, m: EvalMetrics, meta?: Readonly<Record<string, string>>): string {
    const lines = Object.entries(meta ?? {}).map(([k, v]) => `<div><b>${escapeHtml(k)}:</b> ${escapeHtml(v)}</div>`);
    const b = m.bootstrap;
    const boot =
        b.resamples > 0
            ? `${b.resamples} bootstrap resamples (${escapeHtml(b.unit)}s, seed ${b.seed}), ${Math.round(b.level * 100)}% percentile intervals`
            : 'no bootstrap intervals';
    return `<h1>${escapeHtml(title)}</h1>
<div class="meta">${lines.join('')}<div>${m.n} records; unparseable outputs counted as ${m.invalid === 'wrong' ? 'wrong' : 'excluded'}; ${boot}.</div></div>`;
}

function figureRow(label: string, f: Figure): string {
    const ci = f.ci ? `${pct(f.ci.low)} – ${pct(f.ci.high)}` : '<span class="muted">–</span>';
    return `<tr><td>${escapeHtml(label)}</td><td class="num">${pct(f.value)}</td><td class="num">${ci}</td><td class="num">${count(f.num)} / ${count(f.den)}</td></tr>`;
}

function metricTable(m: EvalMetrics): string {
    const rows = FIGURE_NAMES.map((name) => figureRow(FIGURE_LABELS[name], m.figures[name]));
    return `<section id="metrics"><h2>Metrics</h2>
<table><thead><tr><th>Metric</th><th>Value</th><th>${Math.round(m.bootstrap.level * 100)}% interval</th><th>Count</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></section>`;
}

function confusion(m: EvalMetrics): string {
    const c = m.confusion;
    const note =
        c.unparseable.unsafe + c.unparseable.safe > 0
            ? `<p>Unparseable: ${c.unparseable.unsafe} expected Unsafe, ${c.unparseable.safe} expected Safe (${m.invalid === 'wrong' ? 'counted in FN / FP' : 'left out of the matrix'}).</p>`
            : '';
    return `<section id="confusion"><h2>Confusion matrix (Unsafe = positive)</h2>
<table><thead><tr><th></th><th>Predicted Unsafe</th><th>Predicted Safe</th></tr></thead><tbody>
<tr><th>Expected Unsafe</th><td class="num">TP ${c.tp}</td><td class="num">FN ${c.fn}</td></tr>
<tr><th>Expected Safe</th><td class="num">FP ${c.fp}</td><td class="num">TN ${c.tn}</td></tr>
</tbody></table>${note}</section>`;
}

const KIND_LABELS: Record<SampleKind, string> = {
    original: 'original (base policy)',
    v2: 'v2: own category non-violating (expected Safe)',
    v3: 'v3: other categories non-violating',
    v4: 'v4: own category sensitive (expected Unsafe)',
    v5: 'v5: other categories sensitive',
};

function kindTable(m: EvalMetrics): string {
    const entries = Object.entries(m.byKind) as [SampleKind, Figure][];
    if (entries.length === 0) return '';
    return `<section id="kinds"><h2>Accuracy by sample kind</h2>
<table><thead><tr><th>Kind</th><th>Accuracy</th><th>Interval</th><th>Count</th></tr></thead>
<tbody>${entries.map(([k, f]) => figureRow(KIND_LABELS[k] ?? k, f)).join('\n')}</tbody></table></section>`;
}

function severityTable(m: EvalMetrics): string {
    const entries = Object.entries(m.bySeverity ?? {});
    if (entries.length === 0) return '';
    return `<section id="severity"><h2>Accuracy by annotated severity (original samples)</h2>
<table><thead><tr><th>Severity</th><th>Accuracy</th><th>Interval</th><th>Count</th></tr></thead>
<tbody>${entries.map(([x, f]) => figureRow(x, f)).join('\n')}</tbody></table></section>`;
}

function categoryBars(m: EvalMetrics): string {
    const entries = Object.entries(m.perCategory);
    if (entries.length === 0) return '';
    const rowH = 26;
    const labelW = 260;
    const barW = 420;
    const h = entries.length * rowH + 30;
    const x = (v: number) => labelW + v * barW;
    const bars = entries.map(([cat, f], i) => {
        const y = 10 + i * rowH;
        const v = f.value ?? 0;
        const whisker = f.ci
            ? `<line x1="${x(f.ci.low).toFixed(1)}" x2="${x(f.ci.high).toFixed(1)}" y1="${y + 9}" y2="${y + 9}" stroke="#333" stroke-width="1.5"/>`
            : '';
        return `<text x="${labelW - 6}" y="${y + 13}" text-anchor="end">${escapeHtml(cat)}</text>
<rect x="${labelW}" y="${y}" width="${(v * barW).toFixed(1)}" height="18" fill="#4a7fb5"><title>${escapeHtml(`${cat}: ${pct(f.value)} (${count(f.num)}/${count(f.den)})`)}</title></rect>${whisker}
<text x="${x(1) + 8}" y="${y + 13}">${pct(f.value)} (${count(f.num)}/${count(f.den)})</text>`;
    });
    const axis = [0, 0.25, 0.5, 0.75, 1]
        .map(
            (v) =>
                `<line x1="${x(v)}" x2="${x(v)}" y1="6" y2="${h - 18}" stroke="#ddd"/><text x="${x(v)}" y="${h - 4}" text-anchor="middle">${v * 100}%</text>`,
        )
        .join('');
    return `<section id="categories"><h2>Recall by true category (unsafe samples)</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 120}" height="${h}" role="img" aria-label="recall by category">${axis}${bars.join('\n')}</svg></section>`;
}

function rocCurve(m: EvalMetrics): string {
    const rows = m.roc ?? [];
    const size = 320;
    const pad = 48;
    const px = (fpr: number) => (pad + fpr * size).toFixed(1);
    const py = (tpr: number) => (pad + (1 - tpr) * size).toFixed(1);
    const points = [{ fpr: 0, tpr: 0 }, ...rows, { fpr: 1, tpr: 1 }].map((p) => `${px(p.fpr)},${py(p.tpr)}`).join(' ');
    const auc = m.figures.auc;
    const dots = rows
        .map(
            (r) =>
                `<circle cx="${px(r.fpr)}" cy="${py(r.tpr)}" r="2.5" fill="#4a7fb5"><title>${escapeHtml(`score >= ${r.threshold}: TPR ${pct(r.tpr)}, FPR ${pct(r.fpr)}`)}</title></circle>`,
        )
        .join('');
    const table = rows
        .map(
            (r) =>
                `<tr><td class="num">${escapeHtml(r.threshold)}</td><td class="num">${pct(r.tpr)}</td><td class="num">${pct(r.fpr)}</td><td class="num">${pct(r.precision)}</td><td class="num">${r.tp}/${r.fp}/${r.tn}/${r.fn}</td></tr>`,
        )
        .join('\n');
    return `<section id="roc"><h2>ROC curve (AUC ${pct(auc.value)}${auc.ci ? `, ${pct(auc.ci.low)} – ${pct(auc.ci.high)}` : ''})</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="${size + 2 * pad}" height="${size + 2 * pad}" role="img" aria-label="ROC curve">
<rect x="${pad}" y="${pad}" width="${size}" height="${size}" fill="none" stroke="#999"/>
<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#ccc" stroke-dasharray="4 4"/>
${[0, 0.5, 1].map((v) => `<text x="${px(v)}" y="${size + pad + 14}" text-anchor="middle">${v}</text><text x="${pad - 6}" y="${Number(py(v)) + 4}" text-anchor="end">${v}</text>`).join('')}
<polyline points="${points}" fill="none" stroke="#4a7fb5" stroke-width="2"/>${dots}
<text x="${pad + size / 2}" y="${size + pad + 32}" text-anchor="middle">False-positive rate</text>
<text x="12" y="${pad + size / 2}" text-anchor="middle" transform="rotate(-90 12 ${pad + size / 2})">True-positive rate</text>
</svg>
<details><summary>Threshold table</summary><table><thead><tr><th>Threshold</th><th>TPR</th><th>FPR</th><th>Precision</th><th>TP/FP/TN/FN</th></tr></thead>
<tbody>${table}</tbody></table></details></section>`;
}

function misclassified(records: readonly ReportRecord[], max: number): string {
    const wrong = records.filter((r) => r.predicted !== r.expected);
    const shown = wrong.slice(0, max);
    const more = wrong.length > shown.length ? `<p>${wrong.length - shown.length} more not shown.</p>` : '';
    const thumbOf = (r: ReportRecord) => (r.thumb && DATA_IMAGE.test(r.thumb) ? r.thumb : undefined);
    const rows = shown.map((r) => {
        const src = thumbOf(r);
        const thumb = src ? `<img class="thumb" alt="" src="${escapeHtml(src)}">` : '';
        const predicted = r.predicted === null ? `<span class="bad">unparseable</span>` : escapeHtml(r.predicted);
        const why = r.error ? `<span class="bad">${escapeHtml(r.error)}</span>` : escapeHtml(r.rationale ?? '');
        return `<tr><td>${thumb}</td><td>${escapeHtml(r.id)}${r.image ? `<div class="muted">${escapeHtml(r.image)}</div>` : ''}</td><td>${escapeHtml(r.kind ?? 'original')}</td>
<td>${escapeHtml(r.expected)}<div class="muted">${escapeHtml(r.expectedCategory ?? '')}</div></td><td>${predicted}<div class="muted">${escapeHtml(r.predictedCategory ?? '')}</div></td><td class="rationale">${why}</td></tr>`;
    });
    const body = rows.length
        ? `<table><thead><tr><th class="pic${shown.some(thumbOf) ? '' : ' none'}"></th><th class="sample">Sample</th><th class="kind">Kind</th><th class="rating">Expected</th><th class="rating">Predicted</th><th>Rationale</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`
        : '<p>None.</p>';
    return `<section id="misclassified"><h2>Misclassified samples (${wrong.length} of ${records.length})</h2>${body}${more}</section>`;
}
