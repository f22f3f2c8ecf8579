// The end-of-scan report: counts, then verdicts by category and rating.
import type { ScanSummary } from './scan.js';

export function formatSummary(s: ScanSummary, output?: string): string {
    const secs = (s.elapsedMs / 1000).toFixed(1);
    const head =
        `${s.aborted ? 'interrupted after' : 'scanned'} ${s.done}/${s.total} images in ${secs} s: ` +
        `${s.assessed} assessed, ${s.duplicates} duplicates, ${s.skipped} already done, ${s.errors} errors`;
    const rows = Object.entries(s.categories).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const total = rows.reduce((t, [, c]) => ({ Safe: t.Safe + c.Safe, Unsafe: t.Unsafe + c.Unsafe }), {
        Safe: 0,
        Unsafe: 0,
    });
    const width = Math.max(8, ...rows.map(([name]) => name.length));
    const line = (name: string, a: string | number, b: string | number) =>
        `  ${name.padEnd(width)}  ${String(a).padStart(6)}  ${String(b).padStart(6)}`;
    const table = [
        line('category', 'Safe', 'Unsafe'),
        ...rows.map(([name, c]) => line(name, c.Safe, c.Unsafe)),
        line('total', total.Safe, total.Unsafe),
    ];
    const tail = output ? [`records: ${output}${s.aborted ? ' (run the same command again to resume)' : ''}`] : [];
    return [head, ...(rows.length ? table : []), ...tail].join('\n');
}
