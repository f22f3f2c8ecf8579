// What to scan: a folder (images found by content), a manifest, or paths on stdin,
// turned into one sorted list, then cut to a shard and a limit.
import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { mapLimit } from '../util/concurrency.js';
import { pathsFromCsv, pathsFromJsonl, ManifestError } from './manifest.js';
import { IMAGE_EXTENSIONS, SNIFF_BYTES, sniffImageFormat } from './sniff.js';

/** One image to scan. */
export interface ScanEntry {
    /** The name in records, and what sharding hashes: relative to the folder scanned, or as the manifest / stdin wrote it. */
    path: string;
    /** Where to read it. */
    file: string;
    /** The folder a relative `path` is relative to (absolute). Hand-made entries may leave it out: see {@link entryRoot}. */
    root?: string;
}

export type ScanSource =
    | string // a folder, a manifest (.jsonl/.ndjson/.json or .csv), or '-' for paths on stdin
    | { folder: string }
    | { manifest: string; format?: 'jsonl' | 'csv' }
    | { paths: readonly string[]; base?: string }
    | { stdin: NodeJS.ReadableStream; base?: string };

export interface Shard {
    /** 0-based. */
    index: number;
    count: number;
}

export interface ListOptions {
    /** Keep the first `limit` entries (of the shard, in sorted order). */
    limit?: number;
    shard?: Shard;
    /** Where '-' reads from. Default process.stdin. */
    stdin?: NodeJS.ReadableStream;
}

/** The sorted, sharded, limited entries of a source. Deterministic for the same collection. */
export async function listImages(source: ScanSource, options: ListOptions = {}): Promise<ScanEntry[]> {
    const { shard, limit } = options;
    if (shard) checkShard(shard);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0))
        throw new RangeError('limit must be an integer ≥ 0');
    let entries = await entriesOf(source, options);
    // same path listed twice (a manifest) is one image
    entries = [...new Map(entries.map((e) => [e.path, e])).values()].sort((a, b) =>
        a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
    );
    if (shard) entries = entries.filter((e) => shardOf(e.path, shard.count) === shard.index);
    return limit === undefined ? entries : entries.slice(0, limit);
}

/** Which of `count` shards a path belongs to: sha1 of the path, mod count. */
export function shardOf(path: string, count: number): number {
    const hex = createHash('sha1').update(path).digest('hex');
    return Number(BigInt(`0x${hex}`) % BigInt(count));
}

/** Parses "I/N" (0-based index). */
export function parseShard(text: string): Shard {
    const m = /^(\d+)\/(\d+)$/.exec(text.trim());
    if (!m) throw new RangeError(`shard must look like I/N (0-based), e.g. 0/4; got "${text}"`);
    const shard = { index: Number(m[1]), count: Number(m[2]) };
    checkShard(shard);
    return shard;
}

function checkShard({ index, count }: Shard): void {
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
        throw new RangeError(`shard index must be 0..count-1 and count ≥ 1; got ${index}/${count}`);
    }
}

async function entriesOf(source: ScanSource, options: ListOptions): Promise<ScanEntry[]> {
    if (typeof source === 'string') {
        if (source === '-') return fromPaths(await readLines(options.stdin ?? process.stdin), process.cwd());
        const info = await stat(source).catch(() => null);
        if (!info) throw new ManifestError(`no such folder or manifest: ${source}`);
        return info.isDirectory() ? fromFolder(source) : fromManifest(source);
    }
    if ('folder' in source) return fromFolder(source.folder);
    if ('manifest' in source) return fromManifest(source.manifest, source.format);
    if ('paths' in source) return fromPaths(source.paths, source.base ?? process.cwd());
    return fromPaths(await readLines(source.stdin), source.base ?? process.cwd());
}

function fromPaths(paths: readonly string[], base: string): ScanEntry[] {
    const root = resolve(base);
    return paths
        .filter((p) => p.length > 0)
        .map((p) => (isAbsolute(p) ? { path: p, file: p } : { path: p, file: resolve(root, p), root }));
}

/**
 * What a record's relative path is relative to: the entry's root, else the folder that `file` lies in `path`
 * levels below; undefined for an absolute path (or when file and path do not match).
 */
export function entryRoot(entry: ScanEntry): string | undefined {
    if (isAbsolute(entry.path)) return undefined;
    if (entry.root !== undefined) return resolve(entry.root);
    const file = resolve(entry.file);
    const depth = entry.path.split(/[\\/]+/).filter((s) => s && s !== '.').length;
    const root = resolve(file, ...Array<string>(depth).fill('..'));
    return resolve(root, entry.path) === file ? root : undefined;
}

async function fromManifest(file: string, format?: 'jsonl' | 'csv'): Promise<ScanEntry[]> {
    const text = await readFile(file, 'utf8');
    const csv = format ? format === 'csv' : extname(file).toLowerCase() === '.csv';
    const paths = csv ? pathsFromCsv(text, file) : pathsFromJsonl(text, file);
    // listed files are scanned whatever they hold: a non-image there becomes an error record
    return fromPaths(paths, dirname(resolve(file)));
}

async function readLines(stream: NodeJS.ReadableStream): Promise<string[]> {
    const lines: string[] = [];
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
        const p = line.trim();
        if (p) lines.push(p);
    }
    return lines;
}

async function fromFolder(folder: string): Promise<ScanEntry[]> {
    const root = resolve(folder);
    const files = await walk(folder);
    const kept = await mapLimit(files, 16, async (file) => ((await looksLikeImage(file)) ? file : null));
    return kept
        .filter((f): f is string => f !== null)
        .map((file) => ({ path: relative(folder, file).split(sep).join('/'), file, root }));
}

/** Regular files under `dir`, recursively. Symlinked files are followed; symlinked folders are not (no cycles). */
async function walk(dir: string, out: string[] = []): Promise<string[]> {
    for (const d of await readdir(dir, { withFileTypes: true })) {
        const full = join(dir, d.name);
        if (d.isDirectory()) await walk(full, out);
        else if (d.isFile()) out.push(full);
        else if (d.isSymbolicLink() && (await stat(full).catch(() => null))?.isFile()) out.push(full);
    }
    return out;
}

/** By content; a file that cannot be read counts as an image when its extension says so (it becomes an error record). */
async function looksLikeImage(file: string): Promise<boolean> {
    try {
        const fh = await open(file, 'r');
        try {
            const head = new Uint8Array(SNIFF_BYTES);
            const { bytesRead } = await fh.read(head, 0, SNIFF_BYTES, 0);
            return sniffImageFormat(head.subarray(0, bytesRead)) !== null;
        } finally {
            await fh.close();
        }
    } catch {
        return IMAGE_EXTENSIONS.has(extname(file).toLowerCase());
    }
}
