/**
 * LLaVA-1.5 image preprocessing as the LLaVA fine-tunes were trained
 * (`image_aspect_ratio: pad`): LLaVA's `expand2square` pads the picture to a
 * square with the CLIP mean colour, then CLIPImageProcessor resizes it to
 * 336x336 (PIL bicubic), centre-crops (a no-op on a square), rescales and
 * normalises with the CLIP mean/std.
 *
 * llama.cpp instead resizes first and pads afterwards, which changes both the
 * border colour's extent and the interpolation near it.
 */

import { resizeBicubicPil, type RgbImage } from './pil-resize.js';
import { windowToChw } from './onevision.js';

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

export interface Llava15Config {
    imageSize: number;
    /** Padding colour, 8-bit. LLaVA: `tuple(int(x * 255) for x in image_mean)` = (122, 116, 104). */
    padColor: readonly [number, number, number];
    imageMean: readonly [number, number, number];
    imageStd: readonly [number, number, number];
    rescaleFactor: number;
}

/** LLaVA's expand2square colour: `tuple(int(x * 255) for x in image_mean)`. */
export function padColorOf(mean: readonly [number, number, number]): readonly [number, number, number] {
    return mean.map((x) => Math.trunc(x * 255)) as unknown as readonly [number, number, number];
}

export const LLAVA15_CONFIG: Llava15Config = Object.freeze({
    imageSize: 336,
    padColor: padColorOf(CLIP_MEAN),
    imageMean: CLIP_MEAN,
    imageStd: CLIP_STD,
    rescaleFactor: 1 / 255,
});

/**
 * LLaVA's `expand2square`: a max(w,h) square filled with `color`, the picture
 * pasted at `(side - short) // 2` — an odd margin leaves the extra pixel at
 * the bottom/right.
 */
export function expandToSquare(
    rgb: RgbImage,
    color: readonly [number, number, number],
): { image: RgbImage; offset: { x: number; y: number } } {
    const { width: w, height: h } = rgb;
    if (w === h) return { image: rgb, offset: { x: 0, y: 0 } };
    const side = Math.max(w, h);
    const ox = w > h ? 0 : Math.floor((h - w) / 2);
    const oy = w > h ? Math.floor((w - h) / 2) : 0;
    const data = new Uint8Array(side * side * 3);
    for (let i = 0; i < side * side; i++) {
        data[i * 3] = color[0];
        data[i * 3 + 1] = color[1];
        data[i * 3 + 2] = color[2];
    }
    for (let y = 0; y < h; y++) {
        data.set(rgb.data.subarray(y * w * 3, (y + 1) * w * 3), ((y + oy) * side + ox) * 3);
    }
    return { image: { data, width: side, height: side }, offset: { x: ox, y: oy } };
}

function normTables(cfg: Llava15Config): Float32Array[] {
    return [0, 1, 2].map((c) => {
        const t = new Float32Array(256);
        for (let v = 0; v < 256; v++) {
            const x = Math.fround(v * cfg.rescaleFactor);
            t[v] = Math.fround(Math.fround(x - Math.fround(cfg.imageMean[c])) / Math.fround(cfg.imageStd[c]));
        }
        return t;
    });
}

export interface Llava15Pixels {
    /** 3 x 336 x 336, CHW, CLIP-normalised. */
    pixels: Float32Array;
    /** The 8-bit 336x336 picture before normalisation. */
    resized: RgbImage;
    /** The padded square (before resizing) and where the picture sits in it. */
    square: { side: number; offset: { x: number; y: number } };
}

/** Pad to a square with the mean colour, then resize to 336 and normalise — LLaVA-1.5's training preprocessing. */
export function preprocessLlava15(rgb: RgbImage, config: Llava15Config = LLAVA15_CONFIG): Llava15Pixels {
    if (!Number.isInteger(rgb.width) || !Number.isInteger(rgb.height) || rgb.width < 1 || rgb.height < 1) {
        throw new RangeError(`image size must be positive integers, got ${rgb.width}x${rgb.height}`);
    }
    if (rgb.data.length !== rgb.width * rgb.height * 3) {
        throw new RangeError(`RGB data length ${rgb.data.length} != ${rgb.width}x${rgb.height}x3`);
    }
    const { image: sq, offset } = expandToSquare(rgb, config.padColor);
    const resized = resizeBicubicPil(sq, config.imageSize, config.imageSize);
    const pixels = windowToChw(resized, 0, 0, config.imageSize, normTables(config));
    return { pixels, resized, square: { side: sq.width, offset } };
}
