// The scan report in a real headless Chromium (Debian's `chromium` package): the page loads from
// file:// without console errors, shows the totals, its category filter works, thumbnails load.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import t from 'tap';
import { writeScanReport } from '../lib/report/index.js';
import { launchChromium, noChromium as skip } from './helpers/chromium.js';

const model = { name: 'LlavaGuard-tiny', file: 'tiny.gguf', bytes: 123 };
const CATS = {
    hate: 'O1: Hate, Humiliation, Harassment',
    violence: 'O2: Violence, Harm, or Cruelty',
    none: 'NA: None applying',
};
let seq = 0;
const verdict = (path: string, unsafe: boolean, category: string, rationale: string, extra: object = {}) => ({
    path,
    bytes: 100,
    sha256: (++seq).toString(16).padStart(64, '0'),
    key: `k${seq}`,
    rating: unsafe ? 'Unsafe' : 'Safe',
    category,
    rationale,
    unsafe,
    timings: { totalMs: 12 },
    model,
    policyHash: 'ab'.repeat(32),
    ...extra,
});

t.test('the report in headless Chromium', { skip }, async (t) => {
    const dir = t.testdir({});
    const scan = join(dir, 'photos');
    await mkdir(join(scan, 'trip'), { recursive: true });
    const colors = ['#d33', '#3a3', '#33d', '#da3', '#a3d'];
    const files = ['trip/beach.jpg', 'trip/night.png', 'party.webp', 'crowd.jpg', 'sign.png'];
    for (const [i, f] of files.entries()) {
        const img = sharp({
            create: { width: 300 + i * 40, height: 200 + i * 20, channels: 3, background: colors[i] },
        }).composite([
            {
                input: Buffer.from(
                    `<svg width="120" height="80"><circle cx="60" cy="40" r="${20 + i * 4}" fill="#fff"/></svg>`,
                ),
                top: 20,
                left: 20,
            },
        ]);
        await (f.endsWith('.png') ? img.png() : f.endsWith('.webp') ? img.webp() : img.jpeg()).toFile(join(scan, f));
    }
    const records = [
        verdict('trip/beach.jpg', false, CATS.none, 'A beach.'),
        verdict('trip/night.png', true, CATS.violence, 'first run: replaced below'),
        verdict('party.webp', true, CATS.hate, 'A crowd holding signs with slurs. <script>alert("xss")</script>'),
        verdict('crowd.jpg', true, CATS.hate, 'Insulting gestures "aimed" at a person & a group.'),
        verdict('sign.png', true, CATS.violence, 'A sign depicting a fight.'),
        {
            path: 'broken.jpg',
            bytes: 40,
            sha256: 'cd'.repeat(32),
            key: 'kb',
            error: 'VipsJpeg: premature end of JPEG image',
            code: 'CORRUPT',
        },
        verdict('trip/night.png', true, CATS.violence, 'A person threatening another with a knife at night.'),
    ];
    // copy of party.webp (a duplicate) and a torn last line
    const dup = { ...records[2], path: 'party-copy.webp', duplicateOf: 'party.webp' };
    const jsonl = join(scan, 'results.jsonl');
    await writeFile(jsonl, [...records, dup].map((r) => `${JSON.stringify(r)}\n`).join('') + '{"path":"torn.jpg","byt');

    const out = join(dir, 'report');
    const r = await writeScanReport(jsonl, { out });
    t.same(r.totals, { images: 7, safe: 1, unsafe: 5, errors: 1, duplicates: 1 });
    t.same(r.thumbnails, { made: 4, reused: 0, failed: 0 }, 'the duplicate shares its thumbnail');

    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (req) => problems.push(`requestfailed: ${req.url()} ${req.failure()?.errorText}`));
    page.on('dialog', (d) => {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
    });
    // into the report folder (and LLAVAGUARD_REPORT_SCREENSHOTS=dir keeps a copy: the test folder is removed)
    const screenshot = async (name: string) => {
        const png = await page.screenshot({ path: join(out, name), fullPage: true });
        if (process.env.LLAVAGUARD_REPORT_SCREENSHOTS)
            await writeFile(join(process.env.LLAVAGUARD_REPORT_SCREENSHOTS, name), png);
    };
    await page.goto(pathToFileURL(join(out, 'index.html')).href, { waitUntil: 'load' });

    const total = (key: string) => page.locator(`[data-total="${key}"] .n`).innerText();
    t.same(
        {
            images: await total('images'),
            safe: await total('safe'),
            unsafe: await total('unsafe'),
            errors: await total('errors'),
            duplicates: await total('duplicates'),
        },
        { images: '7', safe: '1', unsafe: '5', errors: '1', duplicates: '1' },
        'the totals are shown',
    );
    t.match(await page.locator('.notes').innerText(), /last line .* cut off/);
    t.equal(await page.locator('svg.chart g.row').count(), 3, 'a bar per category');
    t.equal(await page.locator('#errors tbody tr').count(), 1);
    t.match(await page.locator('#errors tbody tr').innerText(), /broken\.jpg\s+CORRUPT\s+VipsJpeg: premature end/);

    const cards = page.locator('#gallery .card');
    const visible = () => page.locator('#gallery .card:visible');
    t.equal(await cards.count(), 5, 'a card per unsafe image');
    t.equal(await visible().count(), 5);
    t.ok(await page.locator('#filters').isVisible(), 'the script shows the filter');
    t.match(
        await page.locator('.card', { hasText: 'party.webp' }).first().locator('.rationale').innerText(),
        'slurs. <script>alert("xss")</script>',
        'the rationale shows as text',
    );

    await page.locator('#filters button', { hasText: CATS.hate }).click();
    t.equal(await visible().count(), 3, 'hate: party.webp, its copy, crowd.jpg');
    t.same(await visible().evaluateAll((els) => els.map((e) => e.getAttribute('data-category'))), [
        CATS.hate,
        CATS.hate,
        CATS.hate,
    ]);
    t.equal(await page.locator('#shown').innerText(), '3');
    t.equal(await page.locator('#filters button', { hasText: CATS.hate }).getAttribute('aria-pressed'), 'true');
    await page.locator('#filters button', { hasText: CATS.violence }).click();
    t.same(
        (await visible().locator('.path').allInnerTexts()).sort(),
        ['sign.png', 'trip/night.png'],
        'violence: only its cards',
    );
    t.same(
        (await visible().locator('.rationale').allInnerTexts()).sort(),
        ['A person threatening another with a knife at night.', 'A sign depicting a fight.'],
        "the re-run's record of night.png",
    );
    await screenshot('screenshot-filtered.png');
    await page.locator('#filters button[data-filter="all"]').click();
    t.equal(await visible().count(), 5, 'all: every card again');
    t.equal(await page.locator('#shown').innerText(), '5');

    const thumbs = await page.locator('#gallery img.thumb').evaluateAll((imgs) =>
        (imgs as HTMLImageElement[]).map((i) => ({
            src: i.getAttribute('src'),
            complete: i.complete,
            w: i.naturalWidth,
            h: i.naturalHeight,
        })),
    );
    t.equal(thumbs.length, 5);
    for (const th of thumbs)
        t.ok(
            th.complete && th.w > 0 && th.h > 0 && Math.max(th.w, th.h) === 160,
            `thumbnail ${th.src} loaded (${th.w}x${th.h})`,
        );

    await screenshot('screenshot.png');
    t.same(problems, [], 'no console errors, page errors, failed requests or dialogs');
});
