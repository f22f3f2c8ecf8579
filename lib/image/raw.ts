/**
 * rgbFromRaw: for callers who already hold decoded pixels (a canvas
 * `ImageData`, another decoder's output). Validates the sizes and returns the
 * same {@link RgbImage} shape loadImage does, so nothing malformed reaches the
 * native layer.
 *
 * RGBA input has its alpha DROPPED (stored colour kept), the same rule
 * loadImage applies by default and for the same reason: PIL's
 * `Image.convert('RGB')`, used in LlavaGuard's training and the reference
 * processors, discards alpha without compositing.
 *
 * No resizing, orientation or colour management happens here: the pixels are
 * taken to be 8-bit sRGB, row-major, without row padding. To downscale raw
 * pixels, pass them to loadImage with `maxSide`.
 */
import { ImageDecodeError } from './errors.js';
import { DEFAULT_MAX_PIXELS, type RawPixels, type RgbImage } from './types.js';

export type { RawPixels };

export interface RgbFromRawOptions {
    /** Largest accepted width × height. Default 100 megapixels; `Infinity` disables. */
    maxPixels?: number;
}

/**
 * Validate raw 8-bit RGB/RGBA pixels and return them as packed RGB.
 * For 3-channel input the returned `data` is a view of the same memory (not a
 * copy); for 4-channel input it is a new buffer without the alpha bytes.
 *
 * @throws {ImageDecodeError} code 'INVALID_RAW' (wrong shape, type or size),
 *   'EMPTY' (0 pixels) or 'TOO_LARGE' (over maxPixels).
 */
export function rgbFromRaw(raw: RawPixels, opts: RgbFromRawOptions = {}): RgbImage {
    const label = 'raw pixels';
    const bad = (problem: string): ImageDecodeError => new ImageDecodeError('INVALID_RAW', label, problem);

    if (typeof raw !== 'object' || raw === null)
        throw bad(`expected { data, width, height, channels }, got ${raw === null ? 'null' : typeof raw}`);
    const { data, width, height, channels } = raw;

    if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
        const d: unknown = data;
        const kind = d === null ? 'null' : ArrayBuffer.isView(d) ? d.constructor.name : typeof d;
        throw bad(`data must be a Uint8Array / Uint8ClampedArray / Buffer of 8-bit samples, got ${kind}`);
    }
    for (const [name, v] of [
        ['width', width],
        ['height', height],
    ] as const) {
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
            throw bad(`${name} must be a positive integer, got ${String(v)}`);
        }
    }
    if (channels !== 3 && channels !== 4) {
        throw bad(`channels must be 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
    }
    if (width === 0 || height === 0) {
        throw new ImageDecodeError('EMPTY', label, `the image is ${width}x${height}: it has no pixels`, {
            details: { width, height },
        });
    }

    const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
    if (typeof maxPixels !== 'number' || !(maxPixels >= 1)) {
        throw new RangeError(`rgbFromRaw: maxPixels must be a positive number, got ${String(opts.maxPixels)}`);
    }
    const pixels = width * height;
    if (pixels > maxPixels) {
        throw new ImageDecodeError(
            'TOO_LARGE',
            label,
            `the image is ${width}x${height} (${pixels.toLocaleString('en-US')} pixels), over the limit of ${maxPixels.toLocaleString('en-US')} pixels (maxPixels)`,
            { details: { width, height, maxPixels } },
        );
    }

    const expected = pixels * channels;
    if (data.length !== expected) {
        const other = channels === 3 ? 4 : 3;
        let hint = '';
        if (data.length === pixels * other) hint = `; that is the size of ${other}-channel data: is channels wrong?`;
        else if (data.length % height === 0 && data.length > expected)
            hint = `; rows of ${data.length / height} bytes instead of ${width * channels}: padded rows (stride) are not supported`;
        throw bad(
            `data has ${data.length} bytes, expected ${expected} (${width} x ${height} x ${channels})` +
                (data.length < expected ? ' — too short' : ' — too long') +
                hint,
        );
    }

    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let rgb: Uint8Array;
    if (channels === 3) {
        rgb = bytes;
    } else {
        rgb = new Uint8Array(pixels * 3);
        for (let i = 0, j = 0; i < bytes.length; i += 4, j += 3) {
            rgb[j] = bytes[i];
            rgb[j + 1] = bytes[i + 1];
            rgb[j + 2] = bytes[i + 2];
        }
    }
    return {
        data: rgb,
        width,
        height,
        source: { width, height, format: 'raw', channels, depth: 'uchar', space: 'srgb', hasAlpha: channels === 4 },
    };
}
