// A CSV view of a scan's JSONL, for spreadsheets: one row per path (its last record), sorted.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { isRecord, isVerdict, type ScanRecord } from './records.js';

export const CSV_COLUMNS = [
    'path',
    'rating',
    'category',
    'rationale',
    'unsafe',
    'error',
    'code',
    'duplicateOf',
    'bytes',
    'sha256',
    'policyHash',
    'model',
    'totalMs',
] as const;

export function recordsToCsv(records: Iterable<ScanRecord>): string {
    const rows = [CSV_COLUMNS.join(',')];
    for (const r of records) {
        const v = isVerdict(r) ? r : undefined;
        const e = isVerdict(r) ? undefined : r;
        const cells = [
            r.path,
            v?.rating,
            spreadsheetSafe(v?.category),
            spreadsheetSafe(v?.rationale),
            v?.unsafe,
            spreadsheetSafe(e?.error),
            e?.code,
            r.duplicateOf,
            r.bytes,
            r.sha256,
            v?.policyHash,
            v?.model.file,
            v?.timings.totalMs.toFixed(0),
        ];
        rows.push(cells.map(csvCell).join(','));
    }
    return `${rows.join('\r\n')}\r\n`;
}

/** Writes `csvPath` (via a temporary file and rename) from the records in `jsonlPath`; returns the row count. */
export async function exportCsv(jsonlPath: string, csvPath: string): Promise<number> {
    const last = new Map<string, ScanRecord>();
    for (const line of (await readFile(jsonlPath, 'utf8')).split('\n')) {
        try {
            const value: unknown = JSON.parse(line);
            if (isRecord(value)) last.set(value.path, value);
        } catch {
            // blank or torn line
        }
    }
    const records = [...last.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const tmp = `${csvPath}.${process.pid}.tmp`;
    await writeFile(tmp, recordsToCsv(records));
    await rename(tmp, csvPath);
    return records.length;
}

function csvCell(value: unknown): string {
    if (value === undefined || value === null) return '';
    const s = String(value);
    return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Model text that starts like a formula would run as one in a spreadsheet; a leading quote keeps it text. */
function spreadsheetSafe(text: string | null | undefined): string | undefined {
    if (text === null || text === undefined) return undefined;
    return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}
