import type { Command } from 'commander';
import { writeScanReport } from '../../report/index.js';
import { parseInteger } from '../options.js';

interface ReportCliOptions {
    out: string;
    images?: string;
    title?: string;
    thumbSize?: number;
    maxGallery?: number;
}

export function registerReport(program: Command): void {
    program
        .command('report')
        .description(
            "write a static HTML page of a scan's results: totals, a chart by category, the unsafe images as thumbnails, the errors",
        )
        .argument('<results>', 'the JSONL records of `llavaguard scan` (the last record of each path counts)')
        .requiredOption(
            '-o, --out <dir>',
            'folder for index.html and thumbs/ (created; thumbnails already there are reused)',
        )
        .option(
            '--images <root>',
            "folder the records' paths are relative to (default: the folder each record names, which scan writes; else the folder of the results file)",
        )
        .option('--title <text>', 'page title')
        .option(
            '--thumb-size <px>',
            'thumbnails fit in this many pixels (default 160)',
            parseInteger('--thumb-size', 16, 2048),
        )
        .option(
            '--max-gallery <n>',
            'at most n unsafe images in the gallery (default: all)',
            parseInteger('--max-gallery', 0),
        )
        .action(async (results: string, options: ReportCliOptions) => {
            const r = await writeScanReport(results, {
                out: options.out,
                images: options.images,
                title: options.title,
                thumbSize: options.thumbSize,
                maxGallery: options.maxGallery,
            });
            const t = r.totals;
            console.log(
                `${t.images} images: ${t.safe} safe, ${t.unsafe} unsafe, ${t.errors} errors, ${t.duplicates} duplicates`,
            );
            if (r.results.tornLastLine) console.error('note: the last line of the results was cut off and is left out');
            if (r.results.badLines)
                console.error(`note: ${r.results.badLines} lines of the results are not JSON and are left out`);
            if (r.thumbnails.failed)
                console.error(
                    `warning: ${r.thumbnails.failed} thumbnails could not be made: images missing or unreadable (is --images right?)`,
                );
            if (r.galleryOmitted)
                console.error(`note: ${r.galleryOmitted} unsafe images are left out of the gallery (--max-gallery)`);
            console.log(`report: ${r.index}`);
        });
}
