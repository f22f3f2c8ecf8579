// Reading a scan's results JSONL for the report: streamed line by line, the last record per path
// kept (a re-run appends newer records), a torn last line (a crash mid-write) skipped.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { isRecord, type ScanRecord } from '../scan/records.js';

export interface ScanResults {
    /** The last record of each path, sorted by path. */
    records: ScanRecord[];
    /** Record lines read (superseded ones included). */
    lines: number;
    /** Records replaced by a later record of the same path. */
    superseded: number;
    /** Whether the last line was cut off (did not parse); it is left out. */
    tornLastLine: boolean;
    /** Other lines that are not JSON (left out). */
    badLines: number;
    /** JSON lines that are not scan records (left out). */
    ignoredLines: number;
}

/** Reads `path` as scan records (see {@link ScanResults}); a missing file is an error. */
export async function readScanResults(path: string): Promise<ScanResults> {
    const last = new Map<string, ScanRecord>();
    let lines = 0;
    let superseded = 0;
    let badLines = 0;
    let ignoredLines = 0;
    // a line that fails to parse counts as bad only once another line follows it: the last one is torn
    let pendingBad = false;
    const input = createReadStream(path, { encoding: 'utf8' });
    const reader = createInterface({ input, crlfDelay: Infinity });
    try {
        for await (const line of reader) {
            if (!line.trim()) continue;
            if (pendingBad) badLines++;
            pendingBad = false;
            let value: unknown;
            try {
                value = JSON.parse(line);
            } catch {
                pendingBad = true;
                continue;
            }
            if (!isRecord(value)) {
                ignoredLines++;
                continue;
            }
            lines++;
            if (last.has(value.path)) {
                superseded++;
                last.delete(value.path);
            }
            last.set(value.path, value);
        }
    } finally {
        reader.close();
        input.destroy();
    }
    const records = [...last.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { records, lines, superseded, tornLastLine: pendingBad, badLines, ignoredLines };
}
