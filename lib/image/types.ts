import type { Sharp } from 'sharp';

/** Decoded 8-bit pixels: what a canvas `ImageData`, another decoder or an earlier `loadImage` gives. */
export interface RawPixels {
    /** 8-bit samples, `width * height * channels` bytes, row-major, no padding. */
    data: Uint8Array | Uint8ClampedArray;
    width: number;
    height: number;
    /** 3 = RGB, 4 = RGBA (alpha is dropped). */
    channels: 3 | 4;
}

/**
 * What `loadImage` accepts:
 * - a file path (string);
 * - the encoded file's bytes as a `Buffer`, `Uint8Array` or `ArrayBuffer`
 *   (PNG, JPEG, WebP, GIF, TIFF, AVIF, SVG, ... — whatever this sharp build reads);
 * - a `sharp` instance, whose pipeline output is taken as the image
 *   (e.g. `sharp(buf).extract(...)`, or `sharp(pixels, { raw: {...} })`);
 * - decoded pixels `{ data, width, height, channels: 3 | 4 }` (8-bit sRGB): taken as they are, not decoded
 *   again (only downscaled to `maxSide` where larger).
 */
export type ImageInput = string | Buffer | Uint8Array | ArrayBuffer | Sharp | RawPixels;

/** How transparency is removed. */
export type AlphaMode =
    /** Discard the alpha channel and keep the stored colour (PIL `Image.convert('RGB')`). Default. */
    | 'drop'
    /** Composite onto a solid colour (any CSS colour string sharp understands, e.g. '#ffffff'). */
    | { background: string };

export interface LoadImageOptions {
    /**
     * Largest image, in pixels (width × height as the header states, one frame
     * for animations), that will be decoded at all. Checked from the header
     * BEFORE decoding, so decompression bombs are refused cheaply.
     * Default {@link DEFAULT_MAX_PIXELS} (100 megapixels). `Infinity` disables the check.
     */
    maxPixels?: number;
    /**
     * Longest side the model's preprocessing can use (e.g. 672 for LLaVA-1.5,
     * 2304 for OneVision anyres). Larger images are downscaled (aspect ratio kept,
     * longest side becomes exactly `maxSide`, lanczos3); smaller ones are never
     * upscaled. Default: no downscaling.
     */
    maxSide?: number;
    /** Default 'drop'. */
    alpha?: AlphaMode;
    /**
     * How damaged pixel data is treated (sharp's `failOn`). Default 'error':
     * truncated files and decoder errors are refused, mere decoder warnings
     * (common in camera JPEGs) are tolerated. 'none' accepts partially decoded images.
     */
    failOn?: 'none' | 'truncated' | 'error' | 'warning';
}

/**
 * What the input was, as far as the decoder could tell (from the header).
 * For a sharp instance: its input image, before the user's pipeline ran.
 */
export interface ImageSourceInfo {
    /** Width as stored, before EXIF orientation (one frame, for animations). */
    width: number;
    /** Height as stored, before EXIF orientation (one frame, for animations). */
    height: number;
    /** Decoder name, e.g. 'jpeg', 'png', 'webp', 'gif', 'tiff', 'svg', 'raw'. */
    format: string;
    /** EXIF orientation tag (1..8), when present. It has been applied to `data`. */
    orientation?: number;
    /** Number of frames/pages, when the format reports it. Only the first is used. */
    frames?: number;
    /** Bands as stored: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA or CMYK, ... */
    channels: number;
    /** Sample format as stored: 'uchar' (8-bit), 'ushort' (16-bit), ... */
    depth: string;
    /** Colour space as stored: 'srgb', 'b-w', 'cmyk', 'rgb16', 'grey16', ... */
    space: string;
    /** Whether the stored image has an alpha channel (it has been removed from `data`). */
    hasAlpha: boolean;
}

/** Packed 8-bit sRGB, 3 bytes a pixel, row-major, no alpha, no padding. */
export interface RgbImage {
    /** Exactly `width * height * 3` bytes. */
    data: Uint8Array;
    /** Always ≥ 1. */
    width: number;
    /** Always ≥ 1. */
    height: number;
    source: ImageSourceInfo;
}

/** Default for {@link LoadImageOptions.maxPixels}: 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;
