// What loadImage is given, checked before anything is decoded: the input's kind, the path or bytes, the options,
// and the header's size against the pixel limit. May import only lib/image's own modules, node: and sharp.
import { constants as fsConstants, type Stats } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import sharp, { type Metadata, type Sharp } from 'sharp';

import { ImageDecodeError } from './errors.js';
import {
    DEFAULT_MAX_PIXELS,
    type AlphaMode,
    type ImageSourceInfo,
    type LoadImageOptions,
    type RawPixels,
} from './types.js';

export type FailOn = NonNullable<LoadImageOptions['failOn']>;

export interface ResolvedOptions {
    maxPixels: number;
    maxSide: number | undefined;
    alpha: AlphaMode;
    failOn: FailOn;
}

export interface Size {
    width: number;
    height: number;
}

const FAIL_ON: readonly FailOn[] = ['none', 'truncated', 'error', 'warning'];

export function isSharpInstance(input: unknown): input is Sharp {
    if (input instanceof sharp) return true;
    // A sharp instance from another copy of the package (duplicated dependency).
    const s = input as Partial<Sharp> | null;
    return (
        typeof s === 'object' &&
        s !== null &&
        !ArrayBuffer.isView(s) &&
        typeof s.metadata === 'function' &&
        typeof s.clone === 'function' &&
        typeof s.toBuffer === 'function' &&
        typeof s.raw === 'function'
    );
}

/** Decoded pixels rather than an encoded file: a plain object with data, width, height and channels. */
export function isRawPixels(input: unknown): input is RawPixels {
    const r = input as Partial<RawPixels> | null;
    return (
        typeof r === 'object' &&
        r !== null &&
        !ArrayBuffer.isView(r) &&
        !(r instanceof ArrayBuffer) &&
        !isSharpInstance(r) &&
        'data' in r &&
        'width' in r &&
        'height' in r &&
        'channels' in r
    );
}

export async function resolveInput(input: unknown): Promise<{ sharpInput: string | Buffer; label: string }> {
    if (typeof input === 'string') return { sharpInput: await checkPath(input), label: `file "${input}"` };
    if (Buffer.isBuffer(input))
        return {
            sharpInput: checkBytes(input, `Buffer (${input.length} bytes)`),
            label: `Buffer (${input.length} bytes)`,
        };
    if (input instanceof Uint8Array) {
        // Not copied. (sharp treats non-Buffer typed arrays as raw pixels, so wrap.)
        const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
        const label = `Uint8Array (${input.byteLength} bytes)`;
        return { sharpInput: checkBytes(buf, label), label };
    }
    if (input instanceof ArrayBuffer) {
        const label = `ArrayBuffer (${input.byteLength} bytes)`;
        return { sharpInput: checkBytes(Buffer.from(input), label), label };
    }
    const kind = input === null ? 'null' : ArrayBuffer.isView(input) ? input.constructor.name : typeof input;
    throw new TypeError(
        `loadImage: expected a file path (string), a Buffer / Uint8Array / ArrayBuffer of encoded image bytes, or a sharp instance; got ${kind}` +
            (ArrayBuffer.isView(input)
                ? ' (for raw pixels pass { data, width, height, channels }, or use rgbFromRaw)'
                : ''),
    );
}

function checkBytes(buf: Buffer, label: string): Buffer {
    if (buf.length === 0) throw new ImageDecodeError('EMPTY', label, 'the data is empty (0 bytes)');
    return buf;
}

async function checkPath(path: string): Promise<string> {
    const label = `file "${path}"`;
    if (path.length === 0) throw new ImageDecodeError('NOT_FOUND', 'file ""', 'the path is an empty string');
    const hint = /^(?:[a-z][a-z0-9+.-]*:\/\/|data:)/i.test(path)
        ? ' (loadImage takes file paths, not URLs; fetch the bytes and pass a Buffer)'
        : '';
    let st: Stats;
    try {
        st = await stat(path);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
            throw new ImageDecodeError('NOT_FOUND', label, `no such file${hint}`, { cause: err });
        }
        if (code === 'EACCES' || code === 'EPERM') {
            throw new ImageDecodeError('UNREADABLE', label, 'permission denied', { cause: err });
        }
        throw new ImageDecodeError('UNREADABLE', label, `cannot stat the file (${code ?? String(err)})`, {
            cause: err,
        });
    }
    if (st.isDirectory()) throw new ImageDecodeError('NOT_FOUND', label, 'the path is a directory, not an image file');
    if (!st.isFile()) throw new ImageDecodeError('NOT_FOUND', label, 'the path is not a regular file');
    if (st.size === 0) throw new ImageDecodeError('EMPTY', label, 'the file is empty (0 bytes)');
    try {
        await access(path, fsConstants.R_OK);
    } catch (err) {
        throw new ImageDecodeError('UNREADABLE', label, 'permission denied', { cause: err });
    }
    return path;
}

export function resolveOptions(opts: LoadImageOptions): ResolvedOptions {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('loadImage: options must be an object');
    const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
    if (
        typeof maxPixels !== 'number' ||
        !(maxPixels >= 1) ||
        (maxPixels !== Infinity && !Number.isInteger(maxPixels))
    ) {
        throw new RangeError(
            `loadImage: maxPixels must be a positive integer or Infinity, got ${String(opts.maxPixels)}`,
        );
    }
    const maxSide = opts.maxSide;
    if (maxSide !== undefined && (typeof maxSide !== 'number' || !Number.isInteger(maxSide) || maxSide < 1)) {
        throw new RangeError(`loadImage: maxSide must be a positive integer, got ${String(maxSide)}`);
    }
    const alpha = opts.alpha ?? 'drop';
    if (alpha !== 'drop') {
        if (typeof alpha !== 'object' || alpha === null || typeof alpha.background !== 'string') {
            throw new TypeError(
                `loadImage: alpha must be 'drop' or { background: string }, got ${JSON.stringify(alpha)}`,
            );
        }
        try {
            sharp().flatten({ background: alpha.background }); // parses the colour; no I/O
        } catch (err) {
            throw new TypeError(
                `loadImage: alpha.background ${JSON.stringify(alpha.background)} is not a colour sharp understands`,
                { cause: err },
            );
        }
    }
    const failOn = opts.failOn ?? 'error';
    if (!FAIL_ON.includes(failOn)) {
        throw new RangeError(`loadImage: failOn must be one of ${FAIL_ON.join(', ')}, got ${String(failOn)}`);
    }
    return { maxPixels, maxSide, alpha, failOn };
}

export function sharpPixelLimit(maxPixels: number): number | false {
    return maxPixels === Infinity ? false : maxPixels;
}

export function sourceInfo(meta: Metadata): ImageSourceInfo {
    const info: ImageSourceInfo = {
        width: meta.width ?? 0,
        height: meta.pageHeight ?? meta.height ?? 0,
        format: String(meta.format),
        channels: meta.channels,
        depth: String(meta.depth),
        space: String(meta.space),
        hasAlpha: Boolean(meta.hasAlpha),
    };
    if (meta.orientation !== undefined) info.orientation = meta.orientation;
    if (meta.pages !== undefined) info.frames = meta.pages;
    return info;
}

export function checkHeader(source: ImageSourceInfo, o: ResolvedOptions, label: string): void {
    const { width, height } = source;
    if (!(width >= 1 && height >= 1)) {
        throw new ImageDecodeError(
            'EMPTY',
            label,
            `the ${source.format} header says ${width}x${height}: the image has no pixels`,
            {
                details: { width, height },
            },
        );
    }
    const pixels = width * height;
    if (pixels > o.maxPixels) {
        throw new ImageDecodeError(
            'TOO_LARGE',
            label,
            `the ${source.format} image is ${width}x${height} (${fmt(pixels)} pixels), over the limit of ${fmt(o.maxPixels)} pixels (maxPixels); it was not decoded`,
            { details: { width, height, maxPixels: o.maxPixels } },
        );
    }
}

const fmt = (n: number): string => n.toLocaleString('en-US');
