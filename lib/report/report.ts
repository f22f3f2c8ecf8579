// `llavaguard report`: a scan's results JSONL as a static HTML page with thumbnails of the unsafe images.
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isVerdict, type ScanErrorRecord, type ScanRecord, type ScanVerdictRecord } from '../scan/records.js';
import { pathToHref } from './escape.js';
import { renderScanReport, type ErrorItem, type GalleryItem } from './html.js';
import { readScanResults, type ScanResults } from './read.js';
import { categoryOf, compareNames, isUnsafe, summarize, type CategoryCount, type ReportTotals } from './summary.js';
import { mapLimit } from '../util/concurrency.js';
import { makeThumbnail, thumbnailName, type Thumbnail } from './thumbs.js';

export interface ScanReportOptions {
    /** Folder for index.html and thumbs/ (created). */
    out: string;
    /** Folder the records' paths are relative to. Default: the `root` each record names, else the folder of the results file. */
    images?: string;
    title?: string;
    /** Thumbnails fit in size x size pixels. Default 160. */
    thumbSize?: number;
    /** At most this many unsafe images in the gallery (the rest are counted). Default: all. */
    maxGallery?: number;
    /** Thumbnails made at a time. Default 2. */
    concurrency?: number;
    /** Keep thumbnails already in out/thumbs (they are named by content). Default true. */
    reuseThumbnails?: boolean;
    /** The date shown as "generated". Default: now. */
    now?: Date;
}

export interface ScanReportResult {
    /** Path of the written index.html. */
    index: string;
    totals: ReportTotals;
    categories: CategoryCount[];
    /** Unsafe images in the gallery / left out of it. */
    gallery: number;
    galleryOmitted: number;
    thumbnails: { made: number; reused: number; failed: number };
    /** How the results file read (records left out). */
    results: Omit<ScanResults, 'records'>;
}

export async function writeScanReport(resultsPath: string, options: ScanReportOptions): Promise<ScanReportResult> {
    const thumbSize = options.thumbSize ?? 160;
    if (!Number.isInteger(thumbSize) || thumbSize < 16 || thumbSize > 2048)
        throw new RangeError('thumbSize must be an integer from 16 to 2048');
    const out = resolve(options.out);
    const fallbackRoot = dirname(resolve(resultsPath));
    // scans write the folder their paths are relative to; older results only had the results file's folder
    const rootOf = (r: ScanRecord) => resolve(options.images ?? r.root ?? fallbackRoot);
    const fileOf = (r: ScanRecord) => resolve(rootOf(r), r.path);
    const { records, ...results } = await readScanResults(resultsPath);
    const { totals, categories } = summarize(records);

    const unsafe = records
        .filter((r): r is ScanVerdictRecord => isVerdict(r) && isUnsafe(r))
        .sort(
            (a, b) =>
                compareNames(categoryOf(a.category), categoryOf(b.category)) ||
                (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
        );
    const limit = options.maxGallery ?? Infinity;
    const shown = unsafe.slice(0, Math.max(0, limit));

    const thumbsDir = join(out, 'thumbs');
    await mkdir(thumbsDir, { recursive: true });
    // one thumbnail per content: duplicates share theirs, made from the first of their files that reads
    const jobs = new Map<
        string,
        { sources: string[]; result?: (Thumbnail & { source: string }) | { error: string } }
    >();
    const nameOf = new Map<ScanVerdictRecord, string>();
    for (const r of shown) {
        const source = fileOf(r);
        const name = thumbnailName(r.sha256, source);
        nameOf.set(r, name);
        const job = jobs.get(name);
        if (!job) jobs.set(name, { sources: [source] });
        else if (!job.sources.includes(source)) job.sources.push(source);
    }
    const reuse = options.reuseThumbnails ?? true;
    await mapLimit([...jobs], options.concurrency ?? 2, async ([name, job]) => {
        let fallback: typeof job.result;
        for (const source of job.sources) {
            try {
                const thumb = { ...(await makeThumbnail(source, join(thumbsDir, name), thumbSize, reuse)), source };
                if (!thumb.sourceMissing) {
                    job.result = thumb;
                    return;
                }
                fallback = thumb; // an old thumbnail of this content: another copy may still be readable
            } catch (error) {
                fallback ??= { error: (error as Error).message ?? String(error) };
            }
        }
        job.result = fallback;
    });
    const thumbnails = { made: 0, reused: 0, failed: 0 };
    for (const { result } of jobs.values()) {
        if (!result || 'error' in result) thumbnails.failed++;
        else if (result.reused) thumbnails.reused++;
        else thumbnails.made++;
    }

    const gallery: GalleryItem[] = await mapLimit(shown, 8, async (r) => {
        const name = nameOf.get(r)!;
        const { result } = jobs.get(name)!;
        const item: GalleryItem = {
            path: r.path,
            rating: r.rating,
            category: categoryOf(r.category),
            rationale: r.rationale ?? null,
            duplicateOf: r.duplicateOf,
        };
        if (result && !('error' in result)) {
            // the link goes to this record's own file, or to the one its thumbnail came from when that is gone
            const own = fileOf(r);
            const target = own === result.source || (await exists(own)) ? own : result.source;
            Object.assign(item, { thumb: `thumbs/${name}`, thumbWidth: result.width, thumbHeight: result.height });
            if (!result.sourceMissing || target !== result.source) item.href = hrefFrom(out, target);
        } else {
            item.thumbError = result?.error ?? 'no thumbnail';
        }
        return item;
    });
    const errors: ErrorItem[] = records
        .filter((r): r is ScanErrorRecord => !isVerdict(r))
        .map((r) => ({ path: r.path, error: r.error, code: r.code, duplicateOf: r.duplicateOf }));

    const models = distinct(records.filter(isVerdict).map((r) => (r.model ? `${r.model.name} (${r.model.file})` : '')));
    const policies = distinct(records.filter(isVerdict).map((r) => r.policyHash ?? ''));
    const roots = distinct(records.map((r) => (isAbsolute(r.path) ? '' : rootOf(r))));
    const root = roots.join(', ') || resolve(options.images ?? fallbackRoot);
    const meta: Record<string, string> = {
        results: resolve(resultsPath),
        images: root,
        generated: (options.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    if (models.length) meta[models.length > 1 ? 'models' : 'model'] = models.join(', ');
    if (policies.length)
        meta[policies.length > 1 ? 'policies' : 'policy'] = policies.map((h) => h.slice(0, 12)).join(', ');
    if (results.superseded) meta['re-run records'] = `${results.superseded} superseded by newer ones`;

    const notes: string[] = [];
    if (results.tornLastLine)
        notes.push('The last line of the results file was cut off (an interrupted scan?) and is left out.');
    if (results.badLines) notes.push(`${results.badLines} lines of the results file are not JSON and are left out.`);
    if (models.length > 1) notes.push('The results come from more than one model.');
    if (policies.length > 1) notes.push('The results come from more than one policy.');
    const noThumb = gallery.filter((g) => !g.thumb).length;
    if (noThumb)
        notes.push(
            `${noThumb} unsafe images could not be read for a thumbnail (missing under ${root}, or unreadable).`,
        );

    const html = renderScanReport({
        title: options.title,
        meta,
        totals,
        categories,
        gallery,
        galleryOmitted: unsafe.length - shown.length,
        errors,
        notes,
    });
    const index = join(out, 'index.html');
    const tmp = `${index}.${process.pid}.tmp`;
    await writeFile(tmp, html);
    await rename(tmp, index);
    return {
        index,
        totals,
        categories,
        gallery: shown.length,
        galleryOmitted: unsafe.length - shown.length,
        thumbnails,
        results,
    };
}

function hrefFrom(out: string, file: string): string {
    const rel = relative(out, file);
    return isAbsolute(rel) ? pathToFileURL(file).href : pathToHref(rel);
}

const exists = (file: string) =>
    access(file).then(
        () => true,
        () => false,
    );

const distinct = (values: string[]) => [...new Set(values.filter(Boolean))];
