// The scan report without a browser: reading the results JSONL, the counts, escaping, thumbnails, the command.
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import t from 'tap';
import { registerReport } from '../lib/cli/commands/report.js';
import { escapeHtml, readScanResults, renderScanReport, summarize, writeScanReport } from '../lib/report/index.js';
import type { ScanRecord } from '../lib/scan/index.js';

const model = { name: 'LlavaGuard-tiny', file: 'tiny.gguf', bytes: 123 };
const timings = { totalMs: 10 };
const hex = (n: number) => n.toString(16).padStart(64, '0');
const verdict = (
    path: string,
    unsafe: boolean,
    category: string | null,
    rationale: string | null,
    extra: object = {},
) => ({
    path,
    bytes: 10,
    sha256: hex(path.length),
    key: `k-${path}`,
    rating: unsafe ? 'Unsafe' : 'Safe',
    category,
    rationale,
    unsafe,
    timings,
    model,
    policyHash: 'p'.repeat(64),
    ...extra,
});
const line = (v: unknown) => `${JSON.stringify(v)}\n`;

t.test('readScanResults keeps the last record per path and skips a torn last line', async (t) => {
    const dir = t.testdir({});
    const file = join(dir, 'results.jsonl');
    await writeFile(
        file,
        [
            line(verdict('a.jpg', false, 'NA: None applying', 'first run')),
            line(verdict('b.png', true, 'O1: Hate, Humiliation, Harassment', 'b')),
            '\n',
            line({ note: 'not a record' }),
            'this line is not json\n',
            line({ path: 'c.gif', error: 'Input buffer contains unsupported image format', code: 'UNSUPPORTED' }),
            line(verdict('a.jpg', true, 'O2: Violence, Harm, or Cruelty', 'second run')),
            `${JSON.stringify(verdict('c.gif', false, 'NA', 'torn')).slice(0, 50)}`,
        ].join(''),
    );
    const r = await readScanResults(file);
    t.same(
        r.records.map((x) => x.path),
        ['a.jpg', 'b.png', 'c.gif'],
        'one record per path, sorted',
    );
    t.match(r.records[0], { rationale: 'second run', unsafe: true }, 'the later record of a.jpg wins');
    t.match(
        r.records[2],
        { error: /unsupported/, code: 'UNSUPPORTED' },
        "the torn line does not replace c.gif's last whole record",
    );
    t.equal(r.tornLastLine, true);
    t.equal(r.badLines, 1, 'the non-JSON line in the middle');
    t.equal(r.ignoredLines, 1, 'JSON that is not a record');
    t.equal(r.superseded, 1);
    t.equal(r.lines, 4);

    // CRLF line ends, and a last whole record without its '\n' is kept (it parses: nothing was cut)
    await writeFile(
        file,
        `${JSON.stringify(verdict('x.jpg', false, 'NA', 'x'))}\r\n${JSON.stringify(verdict('y.jpg', true, 'O3', 'y'))}`,
    );
    const r2 = await readScanResults(file);
    t.same(
        r2.records.map((x) => x.path),
        ['x.jpg', 'y.jpg'],
    );
    t.equal(r2.tornLastLine, false);
    t.equal(r2.badLines, 0);

    await writeFile(file, '');
    t.same((await readScanResults(file)).records, [], 'an empty file has no records');
    await t.rejects(readScanResults(join(dir, 'missing.jsonl')), { code: 'ENOENT' });
});

t.test('summarize counts the last records: safe, unsafe, errors, duplicates, categories', async (t) => {
    const records = [
        verdict('a', false, 'NA: None applying', null),
        verdict('b', true, 'O1: Hate', 'r'),
        verdict('c', true, 'O1: Hate', 'r', { duplicateOf: 'b' }),
        verdict('d', true, null, null),
        verdict('e', false, 'O1: Hate', 'allowed'),
        { path: 'f', error: 'boom' },
        { path: 'g', error: 'boom', duplicateOf: 'f' },
    ] as ScanRecord[];
    const s = summarize(records);
    t.same(s.totals, { images: 7, safe: 2, unsafe: 3, errors: 2, duplicates: 2 });
    t.same(s.categories, [
        { category: '(none)', safe: 0, unsafe: 1 },
        { category: 'NA: None applying', safe: 1, unsafe: 0 },
        { category: 'O1: Hate', safe: 1, unsafe: 2 },
    ]);
});

t.test('every text from the results is escaped', async (t) => {
    t.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const evil = {
        path: 'dir/<img src=x onerror=alert(1)>.jpg',
        category: '"><script>alert("cat")</script>',
        rationale: '</p><script>alert(document.cookie)</script><b onmouseover=alert(2)>x</b>',
    };
    const html = renderScanReport({
        title: 'T <i>itle</i>',
        meta: { results: '/tmp/<b>r</b>.jsonl' },
        totals: { images: 2, safe: 0, unsafe: 1, errors: 1, duplicates: 0 },
        categories: [{ category: evil.category, safe: 0, unsafe: 1 }],
        gallery: [
            {
                path: evil.path,
                rating: 'Unsafe',
                category: evil.category,
                rationale: evil.rationale,
                thumbError: '<oops>',
            },
        ],
        errors: [{ path: evil.path, error: '<svg onload=alert(3)>', code: '"x"' }],
        notes: ['<u>note</u>'],
    });
    const scripts = html.match(/<script\b/g) ?? [];
    t.equal(scripts.length, 1, "only the page's own script");
    for (const needle of [
        '<img src=x',
        '<b onmouseover',
        '<svg onload',
        '<i>itle',
        '<b>r</b>',
        '<u>note',
        '<oops>',
        '"><script',
    ])
        t.notOk(html.includes(needle), `no raw ${needle}`);
    t.ok(
        html.includes('&lt;/p&gt;&lt;script&gt;alert(document.cookie)&lt;/script&gt;'),
        'the rationale is shown as text',
    );
    t.ok(
        html.includes('data-category="&quot;&gt;&lt;script&gt;alert(&quot;cat&quot;)&lt;/script&gt;"'),
        'attribute values are escaped',
    );
    t.match(html, /script-src 'sha256-[A-Za-z0-9+/]+=*'/, "the CSP allows the page's script by hash only");
});

t.test(
    'writeScanReport makes thumbnails (one per content), notes missing images, and the command prints a summary',
    async (t) => {
        const dir = t.testdir({ scan: { sub: {} } });
        const scan = join(dir, 'scan');
        await sharp({ create: { width: 400, height: 200, channels: 3, background: '#c33' } })
            .png()
            .toFile(join(scan, 'sub', 'wide.png'));
        await sharp({ create: { width: 50, height: 80, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } })
            .webp()
            .toFile(join(scan, 'small.webp'));
        const jsonl = join(scan, 'results.jsonl');
        const records = [
            verdict('sub/wide.png', true, 'O2: Violence', 'wide', { sha256: hex(1) }),
            verdict('copy.png', true, 'O2: Violence', 'wide', { sha256: hex(1), duplicateOf: 'sub/wide.png' }),
            verdict('small.webp', true, 'O1: Hate', 'small', { sha256: hex(2) }),
            verdict('gone.jpg', true, 'O1: Hate', 'deleted since', { sha256: hex(3) }),
            verdict('safe.jpg', false, 'NA: None applying', 'fine', { sha256: hex(4) }),
            { path: 'bad.jpg', error: 'corrupt', code: 'CORRUPT' },
        ];
        await writeFile(jsonl, records.map(line).join(''));
        const out = join(dir, 'report');
        const r = await writeScanReport(jsonl, { out, now: new Date('2026-01-02T03:04:05Z') });
        t.same(r.totals, { images: 6, safe: 1, unsafe: 4, errors: 1, duplicates: 1 });
        t.equal(r.gallery, 4);
        t.same(
            r.thumbnails,
            { made: 2, reused: 0, failed: 1 },
            'the duplicate shares its thumbnail; the missing image has none',
        );
        const wide = await sharp(join(out, 'thumbs', `${hex(1)}.jpg`)).metadata();
        t.match(wide, { format: 'jpeg', width: 160, height: 80 });
        const small = await sharp(join(out, 'thumbs', `${hex(2)}.jpg`)).metadata();
        t.match(small, { format: 'jpeg', width: 50, height: 80 }, 'never enlarged');
        t.notOk(existsSync(join(out, 'thumbs', `${hex(3)}.jpg`)));
        const html = await readFile(r.index, 'utf8');
        t.match(html, /1 unsafe images could not be read for a thumbnail/);
        t.match(html, /href="\.\.\/scan\/sub\/wide\.png"/, 'cards link to the original, relative to the page');
        t.match(html, /2026-01-02T03:04:05Z/);
        t.notOk(html.includes('safe.jpg'), 'safe images are not in the gallery');

        // thumbnails are named by content: a second report reuses those of the right size
        t.same((await writeScanReport(jsonl, { out })).thumbnails, { made: 0, reused: 2, failed: 1 });
        t.same(
            (await writeScanReport(jsonl, { out, thumbSize: 100 })).thumbnails,
            { made: 1, reused: 1, failed: 1 },
            'another size: made again (but 50x80 fits both)',
        );
        t.match(await sharp(join(out, 'thumbs', `${hex(1)}.jpg`)).metadata(), { width: 100, height: 50 });
        t.same((await writeScanReport(jsonl, { out, thumbSize: 160 })).thumbnails, { made: 1, reused: 1, failed: 1 });
        // an image deleted since the last report keeps its thumbnail, without a link to the gone file
        await rename(join(scan, 'small.webp'), join(dir, 'moved.webp'));
        t.same((await writeScanReport(jsonl, { out })).thumbnails, { made: 0, reused: 2, failed: 1 });
        const later = await readFile(r.index, 'utf8');
        t.match(later, `src="thumbs/${hex(2)}.jpg"`);
        t.notMatch(later, 'small.webp" target=');
        await rename(join(dir, 'moved.webp'), join(scan, 'small.webp'));

        // again, through the command, with --images and a gallery limit: thumbnails are reused
        const logs: string[] = [];
        const errs: string[] = [];
        t.intercept(console, 'log', { value: (s: string) => logs.push(s) });
        t.intercept(console, 'error', { value: (s: string) => errs.push(s) });
        const program = new Command('llavaguard').exitOverride();
        registerReport(program);
        await program.parseAsync(
            ['report', jsonl, '--out', out, '--images', scan, '--max-gallery', '3', '--title', 'Holiday photos'],
            { from: 'user' },
        );
        t.match(logs.join('\n'), /6 images: 1 safe, 4 unsafe, 1 errors, 1 duplicates\nreport: .*index\.html/);
        t.match(errs.join('\n'), /1 unsafe images are left out of the gallery/);
        const again = await readFile(join(out, 'index.html'), 'utf8');
        t.match(again, /<title>Holiday photos<\/title>/);
        t.match(again, /1 more unsafe images are not shown/);
    },
);
