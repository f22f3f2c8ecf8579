/**
 * loadImage: whatever the user passes → packed 8-bit sRGB (3 bytes a pixel,
 * row-major, no alpha), the format the native addon hands to llama.cpp's mtmd.
 *
 * All decoding goes through sharp's promise APIs (`metadata()`,
 * `toBuffer()`), which run on libuv's threadpool; nothing here decodes on the
 * main thread. The only synchronous sharp calls are pipeline construction,
 * which does no I/O and no decoding.
 *
 * Order of work for a path / bytes input:
 *  1. cheap checks (path exists and is a file, not 0 bytes);
 *  2. header only (`metadata()`): format, stored size, orientation, frames.
 *     The pixel limit is enforced HERE, before any pixel is decoded, so the
 *     error can name the image's dimensions;
 *  3. decode the first frame with sharp's own `limitInputPixels` as a second
 *     guard, apply EXIF orientation, remove alpha, downscale to `maxSide`,
 *     convert to 8-bit sRGB, and check the result really is w×h×3 bytes.
 */
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';

import { ImageDecodeError } from './errors.js';
import {
    DEFAULT_MAX_PIXELS,
    type AlphaMode,
    type ImageInput,
    type ImageSourceInfo,
    type LoadImageOptions,
    type RgbImage,
} from './types.js';

type FailOn = NonNullable<LoadImageOptions['failOn']>;

interface ResolvedOptions {
    maxPixels: number;
    maxSide: number | undefined;
    alpha: AlphaMode;
    failOn: FailOn;
}

interface Size {
    width: number;
    height: number;
}

const FAIL_ON: readonly FailOn[] = ['none', 'truncated', 'error', 'warning'];

/**
 * Decode `input` into packed 8-bit sRGB RGB.
 *
 * - EXIF orientation is applied (a sideways phone photo arrives upright);
 * - alpha is dropped, keeping the stored colour (see {@link AlphaMode});
 * - CMYK, 16-bit, greyscale and palette images become 8-bit sRGB RGB;
 * - animated / multi-page images: the first frame only;
 * - images over `maxPixels` are refused from their header, before decoding;
 * - images longer than `maxSide` are downscaled (aspect kept, never upscaled).
 *
 * @throws {ImageDecodeError} for anything wrong with the image (see its `code`).
 * @throws {TypeError | RangeError} for an input of the wrong type or bad options.
 */
export async function loadImage(input: ImageInput, opts: LoadImageOptions = {}): Promise<RgbImage> {
    const o = resolveOptions(opts);
    if (isSharpInstance(input)) return loadFromSharpInstance(input, o);

    const { sharpInput, label } = await resolveInput(input);
    const inputOptions: SharpOptions = { failOn: o.failOn, pages: 1, page: 0 };

    // 2. Header only. limitInputPixels is off for this call so that we, not
    //    sharp, report the limit (with the dimensions); metadata() reads no pixels.
    let meta: Metadata;
    try {
        meta = await sharp(sharpInput, { ...inputOptions, limitInputPixels: false }).metadata();
    } catch (err) {
        throw fromSharpError(err, label);
    }
    const source = sourceInfo(meta);
    checkHeader(source, o, label);
    const oriented: Size = meta.autoOrient ?? { width: meta.width, height: meta.height };

    // 3. Decode. sharp's own limit stays on as a second guard.
    const decoder = (): Sharp =>
        sharp(sharpInput, { ...inputOptions, limitInputPixels: sharpPixelLimit(o.maxPixels), autoOrient: true });
    try {
        const out = await convert(decoder, oriented, source.hasAlpha, o);
        return { ...out, source };
    } catch (err) {
        throw fromSharpError(err, label);
    }
}

// ---------------------------------------------------------------------------
// sharp instance input

function isSharpInstance(input: unknown): input is Sharp {
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

/**
 * A sharp instance is a pipeline the user built; its OUTPUT is the image.
 * We never mutate it: the pipeline is cloned, EXIF auto-orientation is added
 * (sharp applies it before any rotate/flip the user asked for), and it is
 * rendered to raw 8-bit sRGB; then the usual alpha / downscale steps run on
 * that raw image. The user's instance keeps its own input options (failOn,
 * limitInputPixels, pages), so our pixel limit is checked from its metadata.
 */
async function loadFromSharpInstance(instance: Sharp, o: ResolvedOptions): Promise<RgbImage> {
    const label = 'sharp instance';
    let meta: Metadata;
    try {
        meta = await instance.metadata();
    } catch (err) {
        throw fromSharpError(err, label);
    }
    const source = sourceInfo(meta);
    checkHeader(source, o, label);

    try {
        const { data, info } = await instance
            .clone()
            .autoOrient()
            .toColourspace('srgb')
            .raw({ depth: 'uchar' })
            .toBuffer({ resolveWithObject: true });
        const size: Size = { width: info.width, height: info.height };
        if (size.width < 1 || size.height < 1 || data.length === 0) {
            throw new ImageDecodeError('EMPTY', label, 'the pipeline produced an image with 0 pixels');
        }
        const channels = info.channels;
        if (channels !== 3 && channels !== 4) {
            throw new ImageDecodeError(
                'UNSUPPORTED',
                label,
                `the pipeline produced ${channels}-channel output; expected RGB or RGBA`,
            );
        }
        if (data.length !== size.width * size.height * channels) {
            throw new ImageDecodeError(
                'CORRUPT',
                label,
                `the pipeline produced ${data.length} bytes for ${size.width}x${size.height}x${channels}`,
            );
        }
        const fromRaw = (): Sharp =>
            sharp(data, { raw: { width: size.width, height: size.height, channels }, limitInputPixels: false });
        const out = await convert(fromRaw, size, channels === 4, o);
        return { ...out, source };
    } catch (err) {
        throw fromSharpError(err, label);
    }
}

// ---------------------------------------------------------------------------
// The conversion proper

/**
 * Why alpha is DROPPED rather than flattened onto white: LlavaGuard was
 * trained, and the transformers image processors preprocess, through PIL's
 * `Image.convert('RGB')`, which discards the alpha channel and keeps each
 * pixel's stored colour (a fully transparent pixel stored as (200,100,50)
 * becomes (200,100,50), not white). Matching that keeps what the model sees
 * identical to what it saw in training/evaluation; flattening would change the
 * colours of every semi-transparent pixel and could reveal or hide content
 * differently from the reference pipeline. `{ background }` is offered for
 * callers who want a compositing look instead.
 *
 * Why the alpha is removed BEFORE resizing, in a separate pass: sharp removes
 * alpha at the end of its pipeline and resizes in premultiplied alpha, which
 * turns fully transparent pixels black (0/0 → 0) and darkens edges. PIL's
 * order (and the processors') is convert('RGB') first, then resize. So when an
 * image has alpha AND must be downscaled, it is first decoded to full-size RGB
 * (bounded by maxPixels) and then resized. (Flattening happens early in
 * sharp's pipeline, before premultiplication, so it needs no extra pass.)
 */
async function convert(
    decoder: () => Sharp,
    size: Size,
    hasAlpha: boolean,
    o: ResolvedOptions,
): Promise<Pick<RgbImage, 'data' | 'width' | 'height'>> {
    const target = downscaleTarget(size, o.maxSide);

    if (target && hasAlpha && o.alpha === 'drop') {
        const full = await toRgb(decoder().removeAlpha());
        const resized = sharp(full.data, {
            raw: { width: full.width, height: full.height, channels: 3 },
            limitInputPixels: false, // already decoded and within maxPixels
        });
        return toRgb(resize(resized, target), target);
    }

    let pipeline = decoder();
    pipeline = o.alpha === 'drop' ? pipeline.removeAlpha() : pipeline.flatten({ background: o.alpha.background });
    if (target) pipeline = resize(pipeline, target);
    return toRgb(pipeline, target);
}

function resize(pipeline: Sharp, target: Size): Sharp {
    return pipeline.resize({
        width: target.width,
        height: target.height,
        fit: 'fill', // target already has the source's aspect ratio (rounded)
        kernel: 'lanczos3',
        // Exact lanczos rather than libjpeg's DCT-domain shrink alone: slightly
        // slower, closer to what PIL's resampling gives the reference pipeline.
        fastShrinkOnLoad: false,
    });
}

/** Render to 8-bit sRGB, 3 channels, and check the output really is that. */
async function toRgb(pipeline: Sharp, expected?: Size): Promise<Pick<RgbImage, 'data' | 'width' | 'height'>> {
    const { data, info } = await pipeline
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
    const { width, height, channels } = info;
    if (!(width >= 1 && height >= 1)) {
        throw new InvariantError(`decoder produced a ${width}x${height} image`);
    }
    if (channels !== 3 || data.length !== width * height * 3) {
        throw new InvariantError(
            `decoder produced ${channels} channels / ${data.length} bytes for ${width}x${height}; expected 8-bit RGB`,
        );
    }
    if (expected && (width !== expected.width || height !== expected.height)) {
        throw new InvariantError(`resize produced ${width}x${height}, expected ${expected.width}x${expected.height}`);
    }
    return { data, width, height };
}

class InvariantError extends Error {}

/**
 * The size to downscale to, or undefined when no downscale is needed. The
 * longest side becomes exactly `maxSide`; the other is scaled by the same
 * factor, rounded, and at least 1 pixel.
 */
export function downscaleTarget(size: Size, maxSide: number | undefined): Size | undefined {
    if (maxSide === undefined) return undefined;
    const longest = Math.max(size.width, size.height);
    if (longest <= maxSide) return undefined;
    const scale = maxSide / longest;
    return size.width >= size.height
        ? { width: maxSide, height: Math.max(1, Math.round(size.height * scale)) }
        : { width: Math.max(1, Math.round(size.width * scale)), height: maxSide };
}

// ---------------------------------------------------------------------------
// Inputs, options, header checks

async function resolveInput(input: unknown): Promise<{ sharpInput: string | Buffer; label: string }> {
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
            (ArrayBuffer.isView(input) ? ' (for raw pixels use rgbFromRaw)' : ''),
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
    let st;
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

function resolveOptions(opts: LoadImageOptions): ResolvedOptions {
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

function sharpPixelLimit(maxPixels: number): number | false {
    return maxPixels === Infinity ? false : maxPixels;
}

function sourceInfo(meta: Metadata): ImageSourceInfo {
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

function checkHeader(source: ImageSourceInfo, o: ResolvedOptions, label: string): void {
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

// ---------------------------------------------------------------------------
// sharp / libvips errors → ImageDecodeError

function fromSharpError(err: unknown, label: string): ImageDecodeError {
    if (err instanceof ImageDecodeError) return err;
    const message = err instanceof Error ? err.message : String(err);
    const said = ` (decoder said: ${tidy(message)})`;
    if (err instanceof InvariantError) {
        return new ImageDecodeError('UNSUPPORTED', label, `unexpected decoder output: ${message}`, { cause: err });
    }
    if (/input (?:buffer|file) is empty/i.test(message)) {
        return new ImageDecodeError('EMPTY', label, 'the data is empty (0 bytes)', { cause: err });
    }
    if (/input file is missing/i.test(message)) {
        return new ImageDecodeError('NOT_FOUND', label, 'no such file', { cause: err });
    }
    if (/permission denied/i.test(message)) {
        return new ImageDecodeError('UNREADABLE', label, `permission denied${said}`, { cause: err });
    }
    if (
        /unsupported image format|not been built in|is not a known|no known (?:loader|decoder)|not supported/i.test(
            message,
        )
    ) {
        return new ImageDecodeError(
            'UNSUPPORTED',
            label,
            `not an image in a format this build can read (JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG)${said}`,
            { cause: err },
        );
    }
    if (/exceeds pixel limit/i.test(message)) {
        return new ImageDecodeError(
            'TOO_LARGE',
            label,
            `the image header exceeds the decoder's pixel limit (sharp's limitInputPixels; for a sharp instance, the one it was created with); it was not decoded${said}`,
            { cause: err },
        );
    }
    if (/premature end|truncat|end of (?:file|stream|data)|unexpected end/i.test(message)) {
        return new ImageDecodeError('CORRUPT', label, `the image data is truncated${said}`, { cause: err });
    }
    return new ImageDecodeError('CORRUPT', label, `the image data is corrupt or cannot be decoded${said}`, {
        cause: err,
    });
}

/** libvips messages can repeat lines and end in ':'; make them one short line. */
function tidy(message: string): string {
    const lines = [
        ...new Set(
            message
                .split('\n')
                .map((l) => l.trim().replace(/:$/, ''))
                .filter(Boolean),
        ),
    ];
    const text = lines.join('; ');
    return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
