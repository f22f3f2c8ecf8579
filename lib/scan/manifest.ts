// Parses manifests (JSONL with a `path` key, or CSV with a `path` column) into path strings.

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
    const rows = parseCsv(text.replace(/^\ufeff/, ''));
    const header = rows.shift();
    const column = header?.findIndex((h) => h.trim().toLowerCase() === 'path') ?? -1;
    if (column < 0) throw new ManifestError(`${source}: the CSV header has no "path" column`);
    return rows.map((r) => r[column] ?? '').filter((p) => p.length > 0);
}

function parseCsv(text: string): string[][] {
    const rows: string[][] = [];
    let row: string[] = [];
    let field = '';
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quoted) {
            if (c === '"' && text[i + 1] === '"') {
                field += '"';
                i++;
            } else if (c === '"') quoted = false;
            else field += c;
        } else if (c === '"' && field === '') quoted = true;
        else if (c === ',') {
            row.push(field);
            field = '';
        } else if (c === '\n' || c === '\r') {
            if (c === '\r' && text[i + 1] === '\n') i++;
            row.push(field);
            field = '';
            if (row.length > 1 || row[0] !== '') rows.push(row);
            row = [];
        } else field += c;
    }
    row.push(field);
    if (row.length > 1 || row[0] !== '') rows.push(row);
    return rows;
}
