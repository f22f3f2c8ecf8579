// A collection cut into chunk jobs. A chunk's job id is a digest of its images, so adding the same
// collection again names the same jobs (and adds none of them).
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import type { ScanEntry } from '../scan/sources.js';
import { entryRoot } from '../scan/sources.js';

/** One image of a chunk as the job holds it: its record path, and the root a relative path is relative to. */
export interface ChunkImage {
    path: string;
    root?: string;
}

export interface ChunkJobData {
    images: ChunkImage[];
}

export interface Chunk {
    id: string;
    data: ChunkJobData;
}

export const isUrl = (path: string) => /^https?:\/\//i.test(path);

/** The entry as a job holds it; the worker finds the file again with {@link chunkImageFile}. */
export function chunkImage(entry: ScanEntry): ChunkImage {
    if (isUrl(entry.path) || isAbsolute(entry.path)) return { path: entry.path };
    const root = entryRoot(entry);
    if (root === undefined) throw new TypeError(`cannot tell where ${entry.path} lies (no root)`);
    return { path: entry.path, root };
}

/** Where the worker reads an image: a URL, or a file on storage every worker mounts at the same place. */
export function chunkImageFile(image: ChunkImage): string {
    if (isUrl(image.path) || image.root === undefined) return image.path;
    return resolve(image.root, image.path);
}

/** Consecutive chunks of `size` images, each with its content-derived job id. */
export function chunkEntries(entries: readonly ScanEntry[], size: number): Chunk[] {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError('chunk size must be an integer ≥ 1');
    const chunks: Chunk[] = [];
    for (let i = 0; i < entries.length; i += size) {
        const images = entries.slice(i, i + size).map(chunkImage);
        const id = createHash('sha256').update(JSON.stringify(images)).digest('hex').slice(0, 40);
        chunks.push({ id: `chunk-${id}`, data: { images } });
    }
    return chunks;
}

/** Checks a job's data (a job is input from Redis): throws a TypeError naming what is wrong. */
export function checkChunkData(data: unknown): ChunkJobData {
    const images = (data as Partial<ChunkJobData> | null)?.images;
    if (!Array.isArray(images)) throw new TypeError('chunk job without an images array');
    for (const [i, image] of images.entries()) {
        const ok =
            typeof image === 'object' &&
            image !== null &&
            typeof image.path === 'string' &&
            image.path.length > 0 &&
            (image.root === undefined || typeof image.root === 'string');
        if (!ok) throw new TypeError(`chunk job image ${i} is not { path, root? }`);
    }
    return { images };
}
