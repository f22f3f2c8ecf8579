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
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';

import { countDecode, countDecoded } from './decode-count.js';
import { ImageDecodeError } from './errors.js';
import {
    checkHeader,
    isRawPixels,
    isSharpInstance,
    resolveInput,
    resolveOptions,
    sharpPixelLimit,
    sourceInfo,
    type ResolvedOptions,
    type Size,
} from './input.js';
import { rgbFromRaw } from './raw.js';
import { InvariantError, fromSharpError } from './sharp-errors.js';
import type { ImageInput, LoadImageOptions, RawPixels, RgbImage } from './types.js';

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
    if (isRawPixels(input)) return loadFromPixels(input, o);

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
        countDecode();
        const out = await convert(decoder, oriented, source.hasAlpha, o);
        countDecoded();
        return { ...out, source };
    } catch (err) {
        throw fromSharpError(err, label);
    }
}

// ---------------------------------------------------------------------------
// sharp instance input

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
        countDecode();
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
// Decoded pixels

/**
 * Pixels someone already decoded (a scan decodes ahead): checked and taken as they are, the same memory for RGB,
 * so nothing is decoded twice; only an image longer than `maxSide`, or RGBA to composite, goes through sharp.
 */
async function loadFromPixels(raw: RawPixels, o: ResolvedOptions): Promise<RgbImage> {
    const rgb = rgbFromRaw(raw, { maxPixels: o.maxPixels });
    const flatten = raw.channels === 4 && o.alpha !== 'drop';
    if (!flatten && !downscaleTarget(rgb, o.maxSide)) return rgb;
    const source = flatten ? raw : { data: rgb.data, width: rgb.width, height: rgb.height, channels: 3 as const };
    const fromRaw = (): Sharp =>
        sharp(source.data, {
            raw: { width: source.width, height: source.height, channels: source.channels },
            limitInputPixels: false, // already within maxPixels
        });
    try {
        const out = await convert(fromRaw, rgb, flatten, o);
        return { ...out, source: rgb.source };
    } catch (err) {
        throw fromSharpError(err, 'raw pixels');
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
