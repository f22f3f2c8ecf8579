// Reading an image's bytes where a worker finds it: a file on shared storage (the path as added), or an
// http(s) URL fetched with limits. Each failure says whether trying again could help.
import { readFile } from 'node:fs/promises';
import { chunkImageFile, isUrl, type ChunkImage } from './chunks.js';

export interface FetchLimits {
    /** Largest download in bytes. Default 64 MiB. */
    maxBytes?: number;
    /** Whole request, headers to last byte, in ms. Default 30000. */
    timeoutMs?: number;
}

/** A read that failed. `transient`: the chunk is retried later (network, storage hiccup); else it is recorded. */
export class ImageReadError extends Error {
    override readonly name = 'ImageReadError';
    readonly code: string;
    readonly transient: boolean;
    constructor(message: string, code: string, transient: boolean, options?: { cause?: unknown }) {
        super(message, options);
        this.code = code;
        this.transient = transient;
    }
}

// a missing, forbidden or non-regular file stays so; anything else (EIO, ESTALE on NFS, EMFILE...) may pass
const PERMANENT_FS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ELOOP', 'ENAMETOOLONG', 'EINVAL']);

export async function readImageBytes(image: ChunkImage, limits: FetchLimits = {}): Promise<Buffer> {
    const where = chunkImageFile(image);
    if (isUrl(where)) return fetchImage(where, limits);
    try {
        return await readFile(where);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
        throw new ImageReadError((error as Error).message, code, !PERMANENT_FS.has(code), { cause: error });
    }
}

async function fetchImage(url: string, { maxBytes = 64 << 20, timeoutMs = 30_000 }: FetchLimits): Promise<Buffer> {
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
        response = await fetch(url, { signal, redirect: 'follow' });
    } catch (error) {
        const timedOut = signal.aborted;
        throw new ImageReadError(
            timedOut
                ? `no answer from ${url} within ${timeoutMs} ms`
                : `cannot fetch ${url}: ${(error as Error).message}`,
            timedOut ? 'ETIMEDOUT' : 'EFETCH',
            true,
            { cause: error },
        );
    }
    if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        // 408, 429 and 5xx may pass; other 4xx (gone, forbidden) will not
        const transient = response.status === 408 || response.status === 429 || response.status >= 500;
        throw new ImageReadError(`HTTP ${response.status} from ${url}`, `HTTP_${response.status}`, transient);
    }
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
        await response.body?.cancel().catch(() => {});
        throw new ImageReadError(`${url} is ${declared} bytes, over the ${maxBytes}-byte limit`, 'TOO_LARGE', false);
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
        for await (const part of response.body ?? []) {
            total += part.byteLength;
            if (total > maxBytes) {
                await response.body?.cancel().catch(() => {});
                throw new ImageReadError(`${url} is over the ${maxBytes}-byte limit`, 'TOO_LARGE', false);
            }
            parts.push(part);
        }
    } catch (error) {
        if (error instanceof ImageReadError) throw error;
        throw new ImageReadError(
            `reading ${url}: ${(error as Error).message}`,
            signal.aborted ? 'ETIMEDOUT' : 'EFETCH',
            true,
            {
                cause: error,
            },
        );
    }
    return Buffer.concat(parts);
}
