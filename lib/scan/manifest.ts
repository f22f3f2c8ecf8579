// Parses manifests (JSONL with a `path` key, or CSV with a `path` column) into path strings.
import { parseCsv, stripBom } from '../util/csv.js';

export class ManifestError extends Error {
    override readonly name = 'ManifestError';
}

/** Paths from JSONL text: one JSON object a line, blank lines ignored. */
export function pathsFromJsonl(text: string, source = 'manifest'): string[] {
    const paths: string[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i].trim();
        if (!line) continue;
        let value: unknown;
        try {
            value = JSON.parse(line);
        } catch {
            throw new ManifestError(`${source}:${i + 1}: not a JSON line`);
        }
        const path = (value as { path?: unknown } | null)?.path;
        if (typeof path !== 'string' || !path) throw new ManifestError(`${source}:${i + 1}: no "path" string`);
        paths.push(path);
    }
    return paths;
}

/** Paths from CSV text with a header row naming a `path` column (RFC 4180 quoting). */
export function pathsFromCsv(text: string, source = 'manifest'): string[] {
    const rows = parseCsv(stripBom(text)).map((r) => r.fields);
    const header = rows.shift();
    const column = header?.findIndex((h) => h.trim().toLowerCase() === 'path') ?? -1;
    if (column < 0) throw new ManifestError(`${source}: the CSV header has no "path" column`);
    return rows.map((r) => r[column] ?? '').filter((p) => p.length > 0);
}
