// The scan report as one static HTML page: inline CSS, one small inline script (the category
// filter, allowed by its hash in the page's Content-Security-Policy), the chart as inline SVG,
// thumbnails as files next to the page. Every text from the results is escaped.
import { createHash } from 'node:crypto';
import type { Rating } from '../verdict/types.js';
import { escapeHtml, htmlPage } from '../util/html.js';
import type { CategoryCount, ReportTotals } from './summary.js';

export interface GalleryItem {
    path: string;
    rating: Rating;
    category: string;
    rationale: string | null;
    duplicateOf?: string;
    /** The thumbnail's URL, relative to the page. */
    thumb?: string;
    thumbWidth?: number;
    thumbHeight?: number;
    /** Why there is no thumbnail. */
    thumbError?: string;
    /** URL of the original image, relative to the page. */
    href?: string;
}

export interface ErrorItem {
    path: string;
    error: string;
    code?: string;
    duplicateOf?: string;
}

export interface ScanReportView {
    title?: string;
    /** Lines under the title (source, date, model...), in order. */
    meta?: Readonly<Record<string, string>>;
    totals: ReportTotals;
    categories: readonly CategoryCount[];
    /** The unsafe images, in display order. */
    gallery: readonly GalleryItem[];
    /** Unsafe images left out of the gallery (a size limit). */
    galleryOmitted?: number;
    errors: readonly ErrorItem[];
    /** Warnings shown above the totals (torn line, missing images...). */
    notes?: readonly string[];
}

/** Thumbnails past this many cards load lazily. */
const EAGER_THUMBS = 60;

export function renderScanReport(view: ScanReportView): string {
    const title = view.title ?? 'LlavaGuard scan report';
    const scriptHash = createHash('sha256').update(SCRIPT).digest('base64');
    // 'self' covers thumbs/ over http(s) and, in Chromium, from file://; file: covers browsers that give files opaque origins
    const csp = `default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; base-uri 'none'; form-action 'none'`;
    return htmlPage({
        title,
        csp,
        css: CSS,
        body: `<header>
<h1>${escapeHtml(title)}</h1>
${metaList(view.meta)}
</header>
${notes(view.notes)}
${totals(view.totals)}
${chart(view.categories)}
${gallery(view.gallery, view.galleryOmitted ?? 0)}
${errorTable(view.errors)}
<script>${SCRIPT}</script>`,
    });
}

function metaList(meta: ScanReportView['meta']): string {
    const entries = Object.entries(meta ?? {});
    if (!entries.length) return '';
    return `<dl class="meta">${entries.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>`;
}

function notes(list: ScanReportView['notes']): string {
    if (!list?.length) return '';
    return `<ul class="notes" role="note">${list.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`;
}

function totals(t: ReportTotals): string {
    const box = (key: keyof ReportTotals, label: string) =>
        `<div class="total ${key}" data-total="${key}"><span class="n">${t[key]}</span><span class="label">${label}</span></div>`;
    return `<section id="totals" aria-label="Totals">
${box('images', 'images')}${box('safe', 'Safe')}${box('unsafe', 'Unsafe')}${box('errors', 'errors')}${box('duplicates', 'duplicates')}
</section>`;
}

function chart(categories: readonly CategoryCount[]): string {
    if (!categories.length)
        return '<section id="categories"><h2>By category</h2><p class="empty">No verdicts.</p></section>';
    const rowH = 26;
    const barH = 16;
    const maxChars = 42;
    const labelW = Math.min(
        340,
        Math.max(90, Math.max(...categories.map((c) => Math.min(c.category.length, maxChars))) * 7 + 16),
    );
    const countW = 130;
    const barW = 460;
    const width = labelW + barW + countW;
    const height = categories.length * rowH + 34;
    const max = Math.max(1, ...categories.map((c) => c.safe + c.unsafe));
    const scale = (n: number) => (n / max) * barW;
    const rows = categories.map((c, i) => {
        const y = i * rowH + 4;
        const label = c.category.length > maxChars ? `${c.category.slice(0, maxChars - 1)}…` : c.category;
        const safeW = scale(c.safe);
        const unsafeW = scale(c.unsafe);
        const counts =
            c.unsafe && c.safe
                ? `${c.safe + c.unsafe} (${c.unsafe} unsafe)`
                : c.unsafe
                  ? `${c.unsafe} unsafe`
                  : `${c.safe} safe`;
        return (
            `<g class="row" data-category="${escapeHtml(c.category)}"><title>${escapeHtml(c.category)}: ${c.safe} safe, ${c.unsafe} unsafe</title>` +
            `<text class="label" x="${labelW - 8}" y="${y + barH / 2}" text-anchor="end" dominant-baseline="central">${escapeHtml(label)}</text>` +
            (safeW > 0
                ? `<rect class="safe" x="${labelW}" y="${y}" width="${safeW.toFixed(1)}" height="${barH}"/>`
                : '') +
            (unsafeW > 0
                ? `<rect class="unsafe" x="${(labelW + safeW).toFixed(1)}" y="${y}" width="${unsafeW.toFixed(1)}" height="${barH}"/>`
                : '') +
            `<text class="count" x="${(labelW + safeW + unsafeW + 6).toFixed(1)}" y="${y + barH / 2}" dominant-baseline="central">${counts}</text></g>`
        );
    });
    const legendY = categories.length * rowH + 14;
    const legend =
        `<g class="legend"><rect class="safe" x="${labelW}" y="${legendY}" width="12" height="12"/><text x="${labelW + 16}" y="${legendY + 6}" dominant-baseline="central">Safe</text>` +
        `<rect class="unsafe" x="${labelW + 70}" y="${legendY}" width="12" height="12"/><text x="${labelW + 86}" y="${legendY + 6}" dominant-baseline="central">Unsafe</text></g>`;
    return `<section id="categories"><h2>By category</h2>
<svg class="chart" role="img" aria-label="Images by category, safe and unsafe" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
${rows.join('\n')}
${legend}
</svg></section>`;
}

function gallery(items: readonly GalleryItem[], omitted: number): string {
    const counts = new Map<string, number>();
    for (const it of items) counts.set(it.category, (counts.get(it.category) ?? 0) + 1);
    const buttons = [
        `<button type="button" data-filter="all" aria-pressed="true">All <span class="c">${items.length}</span></button>`,
        ...[...counts].map(
            ([cat, n]) =>
                `<button type="button" data-filter="category" data-category="${escapeHtml(cat)}" aria-pressed="false">${escapeHtml(cat)} <span class="c">${n}</span></button>`,
        ),
    ];
    const cards = items.map((it, i) => card(it, i));
    const more =
        omitted > 0 ? `<p class="omitted">${omitted} more unsafe images are not shown (gallery limit).</p>` : '';
    const none = items.length || omitted ? '' : '<p class="empty">No unsafe images.</p>';
    return `<section id="unsafe"><h2>Unsafe images <span class="shown-of">(<span id="shown">${items.length}</span> of ${items.length + omitted} shown)</span></h2>
${items.length ? `<nav id="filters" aria-label="Filter by category" hidden>${buttons.join('')}</nav>` : none}
<div id="gallery">
${cards.join('\n')}
</div>
${more}</section>`;
}

function card(it: GalleryItem, index: number): string {
    const size = it.thumbWidth && it.thumbHeight ? ` width="${it.thumbWidth}" height="${it.thumbHeight}"` : '';
    const loading = index >= EAGER_THUMBS ? ' loading="lazy"' : '';
    let picture = it.thumb
        ? `<img class="thumb" src="${escapeHtml(it.thumb)}" alt="${escapeHtml(it.path)}"${size}${loading} decoding="async">`
        : `<div class="nothumb" title="${escapeHtml(it.thumbError ?? '')}">no preview</div>`;
    if (it.href) picture = `<a href="${escapeHtml(it.href)}" target="_blank" rel="noopener noreferrer">${picture}</a>`;
    const dup =
        it.duplicateOf !== undefined
            ? `<div class="dup">same image as <span class="mono">${escapeHtml(it.duplicateOf)}</span></div>`
            : '';
    return `<figure class="card" data-category="${escapeHtml(it.category)}">
<div class="pic">${picture}</div>
<figcaption><div class="path mono" title="${escapeHtml(it.path)}">${escapeHtml(it.path)}</div>
<div><span class="badge ${it.rating === 'Unsafe' ? 'unsafe' : 'safe'}">${escapeHtml(it.rating)}</span> <span class="cat">${escapeHtml(it.category)}</span></div>
${dup}<p class="rationale">${it.rationale === null ? '<em>no rationale</em>' : escapeHtml(it.rationale)}</p></figcaption>
</figure>`;
}

function errorTable(errors: readonly ErrorItem[]): string {
    if (!errors.length) return '<section id="errors"><h2>Errors</h2><p class="empty">No errors.</p></section>';
    const rows = errors.map(
        (e) =>
            `<tr><td class="mono">${escapeHtml(e.path)}</td><td class="mono">${escapeHtml(e.code ?? '')}</td><td>${escapeHtml(e.error)}</td><td class="mono">${escapeHtml(e.duplicateOf ?? '')}</td></tr>`,
    );
    return `<section id="errors"><h2>Errors <span class="c">${errors.length}</span></h2>
<table><thead><tr><th>path</th><th>code</th><th>error</th><th>same image as</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></section>`;
}

// The filter: static text (no data in it), so its hash in the CSP is fixed.
const SCRIPT = `
(() => {
    const bar = document.getElementById('filters');
    if (!bar) return;
    const buttons = Array.from(bar.querySelectorAll('button'));
    const cards = Array.from(document.querySelectorAll('#gallery .card'));
    const shown = document.getElementById('shown');
    const select = (button) => {
        const all = !button.hasAttribute('data-category');
        const category = button.getAttribute('data-category');
        let n = 0;
        for (const card of cards) {
            const visible = all || card.getAttribute('data-category') === category;
            card.hidden = !visible;
            if (visible) n++;
        }
        for (const b of buttons) b.setAttribute('aria-pressed', String(b === button));
        if (shown) shown.textContent = String(n);
    };
    for (const b of buttons) b.addEventListener('click', () => select(b));
    bar.hidden = false;
})();
`;

const CSS = `
:root { --safe: #2e8b57; --unsafe: #c62828; --muted: #666; --line: #ddd; --bg: #fff; --card: #fafafa; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 16px 24px 48px; max-width: 1280px; color: #222; background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h2 .shown-of, h2 .c { font-weight: normal; color: var(--muted); font-size: 14px; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
dl.meta { display: flex; flex-wrap: wrap; gap: 4px 20px; margin: 0; color: var(--muted); }
dl.meta div { display: flex; gap: 6px; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; word-break: break-all; }
ul.notes { background: #fff8e1; border: 1px solid #f0d98a; border-radius: 6px; padding: 8px 8px 8px 28px; margin: 14px 0 0; }
#totals { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 18px; }
.total { border: 1px solid var(--line); border-radius: 8px; padding: 10px 18px; min-width: 120px; display: flex; flex-direction: column; background: var(--card); }
.total .n { font-size: 26px; font-weight: 700; }
.total .label { color: var(--muted); }
.total.safe .n { color: var(--safe); }
.total.unsafe .n { color: var(--unsafe); }
.total.errors .n { color: #b26a00; }
svg.chart { max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
svg.chart rect.safe { fill: var(--safe); }
svg.chart rect.unsafe { fill: var(--unsafe); }
svg.chart text { fill: #333; }
svg.chart text.count { fill: var(--muted); }
#filters { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 12px; }
#filters button { font: inherit; border: 1px solid #bbb; background: #fff; border-radius: 16px; padding: 3px 12px; cursor: pointer; }
#filters button .c { color: var(--muted); }
#filters button[aria-pressed="true"] { background: #333; border-color: #333; color: #fff; }
#filters button[aria-pressed="true"] .c { color: #ccc; }
#gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
.card { margin: 0; border: 1px solid var(--line); border-radius: 8px; background: var(--card); overflow: hidden; display: flex; flex-direction: column; }
.card .pic { height: 170px; display: flex; align-items: center; justify-content: center; background: #eee; }
.card .pic img { max-width: 160px; max-height: 160px; display: block; }
.nothumb { color: var(--muted); font-style: italic; }
.card figcaption { padding: 8px 10px 10px; display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.card .path { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.badge { display: inline-block; border-radius: 4px; padding: 0 6px; color: #fff; font-size: 12px; font-weight: 600; }
.badge.unsafe { background: var(--unsafe); }
.badge.safe { background: var(--safe); }
.cat { font-weight: 600; }
.dup { color: var(--muted); font-size: 12px; }
.rationale { margin: 2px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 12em; overflow: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: 5px 8px; overflow-wrap: anywhere; }
th { background: var(--card); }
.empty, .omitted { color: var(--muted); }
`;
