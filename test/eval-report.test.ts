import t from 'tap';
import { computeMetrics, type Outcome } from '../lib/eval/metrics.js';
import { escapeHtml, renderReport, type ReportRecord } from '../lib/eval/report-html.js';
import { launchChromium, noChromium } from './helpers/chromium.js';

const O3 = 'O3: Sexual Content';
const records: (ReportRecord & Outcome)[] = [
    {
        id: 'a.jpg',
        expected: 'Unsafe',
        predicted: 'Unsafe',
        expectedCategory: O3,
        predictedCategory: O3,
        rationale: 'fine',
        score: 0.9,
        severity: 'Highly Inappropriate',
    },
    {
        id: 'b.jpg',
        expected: 'Unsafe',
        predicted: 'Safe',
        expectedCategory: O3,
        predictedCategory: 'NA: None applying',
        rationale: 'Looks <b>ok</b> & "harmless"',
        score: 0.4,
        thumb: 'data:image/png;base64,iVBORw0KGgo=',
    },
    {
        id: 'c<img src=x onerror=alert(1)>.jpg',
        kind: 'v2',
        expected: 'Safe',
        predicted: 'Unsafe',
        expectedCategory: O3,
        rationale: '<script>alert("x")</script>',
        score: 0.6,
        thumb: 'javascript:alert(1)',
    },
    {
        id: 'd.jpg',
        kind: 'v4',
        expected: 'Unsafe',
        predicted: null,
        expectedCategory: O3,
        error: 'decode failed: <eof>',
        score: null,
    },
    { id: 'e.jpg', expected: 'Safe', predicted: 'Safe', score: 0.1 },
];

t.test('escapeHtml escapes the five special characters', async (t) => {
    t.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    t.equal(escapeHtml(null), '');
});

t.test('the report contains every section and lists the misclassified samples', async (t) => {
    const metrics = computeMetrics(records, { resamples: 100, seed: 1 });
    const html = renderReport(metrics, { records, title: 'Eval <v1.2>', meta: { model: 'LlavaGuard-v1.2-0.5B & co' } });
    t.match(html, /^<!DOCTYPE html>/);
    for (const id of ['metrics', 'confusion', 'kinds', 'severity', 'categories', 'roc', 'misclassified'])
        t.match(html, `<section id="${id}">`, `section ${id}`);
    t.match(html, '<title>Eval &lt;v1.2&gt;</title>');
    t.match(html, 'LlavaGuard-v1.2-0.5B &amp; co');
    t.match(html, 'Balanced accuracy');
    t.match(html, 'PER (policy exception rate)');
    t.match(html, /TP 1<\/td><td class="num">FN 2/, 'confusion matrix: TP 1, FN 2 (the unparseable v4 counts as FN)');
    t.match(html, 'Misclassified samples (3 of 5)');
    t.notMatch(html, '>a.jpg<', 'correct samples are not listed');
    t.match(html, /<svg[^>]*aria-label="ROC curve"/);
    t.match(html, /<svg[^>]*aria-label="recall by category"/);
    t.match(html, '<img class="thumb" alt="" src="data:image/png;base64,iVBORw0KGgo=">');
    t.match(html, 'decode failed: &lt;eof&gt;');
    t.match(html, 'unparseable');
});

t.test('all text is escaped and nothing external is loaded', async (t) => {
    const html = renderReport(computeMetrics(records, { resamples: 0 }), { records });
    t.notMatch(html, /<script/i, 'no script element, even from a rationale');
    t.match(html, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    t.match(html, 'Looks &lt;b&gt;ok&lt;/b&gt; &amp; &quot;harmless&quot;');
    t.match(html, 'c&lt;img src=x onerror=alert(1)&gt;.jpg');
    t.notMatch(html, /<img src=x/);
    t.notMatch(html, 'javascript:', 'a thumb that is not a data:image URL is dropped');
    t.notMatch(html, /(?:src|href)="(?!data:)/, 'no src/href other than data URLs');
    t.notMatch(html, /<link|@import|url\(/);
    t.match(html, `default-src 'none'`);
});

t.test('without scores there is no ROC section; without records no sample list', async (t) => {
    const plain = records.map(({ score, ...r }) => r);
    const html = renderReport(computeMetrics(plain, { resamples: 0 }));
    t.notMatch(html, 'id="roc"');
    t.notMatch(html, 'id="misclassified"');
    t.match(html, 'n/a', 'undefined figures show as n/a');
});

t.test('maxMisclassified bounds the list', async (t) => {
    const html = renderReport(computeMetrics(records, { resamples: 0 }), { records, maxMisclassified: 1 });
    t.match(html, '2 more not shown.');
});

t.test('the page fits a 1280-pixel window in headless Chromium', { skip: noChromium }, async (t) => {
    // what a random-weight model and a deep dataset folder give: words no line can break
    const unbroken = 'ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏ'.repeat(40);
    const folder = `/data/${'llavaguard_eval_set_'.repeat(12)}`;
    const wide: (ReportRecord & Outcome)[] = Array.from({ length: 12 }, (_, i) => ({
        id: `${'sample_'.repeat(20)}${i}.jpg`,
        image: `${folder}/img_${i}.jpg`,
        kind: i % 2 ? 'v2' : 'original',
        expected: i % 3 ? 'Unsafe' : 'Safe',
        predicted: i % 4 ? 'Safe' : 'Unsafe',
        expectedCategory: O3,
        predictedCategory: unbroken.slice(0, 120),
        rationale: i % 2 ? unbroken : 'A short rationale.',
        score: (i % 10) / 10,
        severity: 'Highly Inappropriate',
    }));
    const html = renderReport(computeMetrics(wide, { resamples: 50, seed: 3 }), {
        records: wide,
        meta: { manifest: `${folder}/manifest.jsonl`, model: unbroken.slice(0, 200) },
    });
    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.setContent(html, { waitUntil: 'load' });
    const { scroll, client } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
    }));
    t.equal(client, 1280);
    t.ok(scroll <= client, `no horizontal scroll bar (page ${scroll} px wide)`);
    t.match(await page.locator('#misclassified td.rationale').nth(1).innerText(), unbroken, 'the rationale is whole');
});
