/**
 * LLaVA-OneVision ("anyres_max_9") image layout, as transformers defines it:
 * `LlavaOnevisionImageProcessorPil` (pixels) and
 * `LlavaOnevisionModel.pack_image_features` (feature arrangement).
 *
 * For one image the language model sees, in order:
 *   1. the overview: the whole picture squashed to 384x384, 27x27 = 729 tokens, no newline;
 *   2. the tile grid: the picture resized (aspect ratio kept) into the best
 *      pinpoint resolution, padded centred with black, cut into 384 tiles;
 *      their 27x27 feature maps are stitched into one (rows*27)x(cols*27) map,
 *      the padding is cropped away again ("unpad"), the map is bilinearly
 *      downsampled when it is larger than ~9 tiles' worth, and one
 *      `image_newline` embedding is appended after every feature row.
 */

import { resizeBicubicPil, type RgbImage } from './pil-resize.js';
import { pyFloorDiv, pyRound } from './pyfloat.js';

export type { RgbImage } from './pil-resize.js';

export interface OneVisionConfig {
    /** Vision tower input side (SigLIP 384). */
    imageSize: number;
    /** ViT patch size (14) → imageSize / patchSize = 27 features per side. */
    patchSize: number;
    /** Candidate padded resolutions, each `[height, width]` as transformers stores them. */
    gridPinpoints: ReadonlyArray<readonly [number, number]>;
    /** N of `anyres_max_N`: the feature map is downsampled above ~N tiles. */
    maxNumPatches: number;
    imageMean: readonly [number, number, number];
    imageStd: readonly [number, number, number];
    rescaleFactor: number;
}

function onevisionPinpoints(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let h = 384; h <= 2304; h += 384) for (let w = 384; w <= 2304; w += 384) out.push([h, w]);
    return out;
}

/** LlavaGuard v1.2 / llava-onevision-qwen2 preprocessing (preprocessor_config.json of the -ov-hf checkpoints). */
export const ONEVISION_CONFIG: OneVisionConfig = Object.freeze({
    imageSize: 384,
    patchSize: 14,
    gridPinpoints: Object.freeze(onevisionPinpoints()) as ReadonlyArray<readonly [number, number]>,
    maxNumPatches: 9,
    imageMean: [0.5, 0.5, 0.5] as const,
    imageStd: [0.5, 0.5, 0.5] as const,
    rescaleFactor: 1 / 255,
});

export interface Size {
    width: number;
    height: number;
}

/**
 * transformers' `select_best_resolution`: the pinpoint that keeps the most
 * of the image's pixels, ties broken by the least wasted area (first one wins
 * a full tie). Takes width, height; pinpoints are `[height, width]`.
 */
export function selectBestResolution(
    width: number,
    height: number,
    pinpoints: ReadonlyArray<readonly [number, number]> = ONEVISION_CONFIG.gridPinpoints,
): Size {
    let best: Size | undefined;
    let maxEffective = 0;
    let minWasted = Infinity;
    for (const [h, w] of pinpoints) {
        const scale = Math.min(w / width, h / height);
        const dw = Math.trunc(width * scale);
        const dh = Math.trunc(height * scale);
        const effective = Math.min(dw * dh, width * height);
        const wasted = w * h - effective;
        if (effective > maxEffective || (effective === maxEffective && wasted < minWasted)) {
            maxEffective = effective;
            minWasted = wasted;
            best = { width: w, height: h };
        }
    }
    if (!best) throw new RangeError('no usable grid pinpoint');
    return best;
}

/** transformers' `get_patch_output_size`: aspect-kept size inside `target` (ceil rule). */
export function patchOutputSize(width: number, height: number, target: Size): Size {
    const scaleW = target.width / width;
    const scaleH = target.height / height;
    if (scaleW < scaleH) {
        return { width: target.width, height: Math.min(Math.ceil(height * scaleW), target.height) };
    }
    return { width: Math.min(Math.ceil(width * scaleH), target.width), height: target.height };
}

export interface TileRect {
    /** Row-major index (transformers' `divide_to_patches` order). */
    index: number;
    row: number;
    col: number;
    /** Top-left corner in the padded picture. */
    x: number;
    y: number;
    size: number;
}

export interface OneVisionPlan {
    /** Original picture. */
    width: number;
    height: number;
    grid: { rows: number; cols: number };
    /** Picture size after the aspect-kept resize. */
    resized: { w: number; h: number };
    /** Best pinpoint = padded picture size = grid * imageSize. */
    padded: { w: number; h: number };
    /** Where the resized picture sits in the padded one (black around it). */
    padOffset: { x: number; y: number };
    tiles: TileRect[];
    /** Features per tile side (27). */
    featuresPerSide: number;
    /** Stitched tile feature map before unpadding: (rows*27) x (cols*27). */
    featureGrid: { h: number; w: number };
    /** Feature rows/columns kept by unpad_image: [top, top + h) x [left, left + w). */
    unpadded: { top: number; left: number; h: number; w: number };
    /** Shape of the feature map after unpadding, as transformers names it. */
    unpaddedFeatureShape: { h: number; w: number };
    /** anyres_max_N: the bilinear target when the map is downsampled; absent otherwise. */
    downsampled?: { h: number; w: number };
    /** Final feature-map shape (downsampled or unpadded); one newline follows each of its rows. */
    finalFeatureShape: { h: number; w: number };
    tokens: { overview: number; grid: number; newlines: number; total: number };
}

function checkSize(width: number, height: number): void {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
        throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
    }
}

/**
 * transformers' `unpad_image` applied to a `curH x curW` map of an image that
 * was originally `origH x origW`: the rows (or columns) that held padding are
 * cropped, `padding` from each side, `new = int(round(orig * scale, 7))`.
 */
function unpadRect(
    origW: number,
    origH: number,
    curW: number,
    curH: number,
): { top: number; left: number; h: number; w: number } {
    const originalAspect = origW / origH;
    const currentAspect = curW / curH;
    if (originalAspect > currentAspect) {
        const scaleFactor = curW / origW;
        const newH = Math.trunc(pyRound(origH * scaleFactor, 7));
        const padding = pyFloorDiv(curH - newH, 2);
        // tensor[:, padding : curH - padding] — Python slice semantics
        const [start, stop] = pySlice(padding, curH - padding, curH);
        return { top: start, left: 0, h: Math.max(0, stop - start), w: curW };
    }
    const scaleFactor = curH / origH;
    const newW = Math.trunc(pyRound(origW * scaleFactor, 7));
    const padding = pyFloorDiv(curW - newW, 2);
    const [start, stop] = pySlice(padding, curW - padding, curW);
    return { top: 0, left: start, h: curH, w: Math.max(0, stop - start) };
}

/** Normalised [start, stop) of Python's `seq[start:stop]` on a length-`len` axis. */
function pySlice(start: number, stop: number, len: number): [number, number] {
    const norm = (i: number): number => (i < 0 ? Math.max(0, len + i) : Math.min(i, len));
    const s = norm(start);
    const e = norm(stop);
    return [s, Math.max(s, e)];
}

/** The complete layout of one image: tiles, feature-map shapes and the exact token count. */
export function planOneVision(size: Size, config: OneVisionConfig = ONEVISION_CONFIG): OneVisionPlan {
    const { width, height } = size;
    checkSize(width, height);
    const best = selectBestResolution(width, height, config.gridPinpoints);
    const tile = config.imageSize;
    const rows = Math.trunc(best.height / tile);
    const cols = Math.trunc(best.width / tile);
    const resized = patchOutputSize(width, height, best);
    const padOffset = {
        x: Math.floor((best.width - resized.width) / 2),
        y: Math.floor((best.height - resized.height) / 2),
    };
    const tiles: TileRect[] = [];
    // divide_to_patches walks the padded picture in steps of the tile size
    for (let y = 0, r = 0; y < best.height; y += tile, r++) {
        for (let x = 0, c = 0; x < best.width; x += tile, c++) {
            tiles.push({ index: tiles.length, row: r, col: c, x, y, size: tile });
        }
    }
    const side = Math.trunc(config.imageSize / config.patchSize);
    const featureGrid = { h: rows * side, w: cols * side };
    const unpadded = unpadRect(width, height, featureGrid.w, featureGrid.h);
    const curH = unpadded.h;
    const curW = unpadded.w;
    const ratio = Math.sqrt((curH * curW) / (config.maxNumPatches * side * side));
    let finalShape = { h: curH, w: curW };
    let downsampled: { h: number; w: number } | undefined;
    if (ratio > 1.1) {
        downsampled = { h: Math.trunc(pyFloorDiv(curH, ratio)), w: Math.trunc(pyFloorDiv(curW, ratio)) };
        finalShape = downsampled;
    }
    const overview = side * side;
    const grid = finalShape.h * finalShape.w;
    const newlines = finalShape.h;
    const plan: OneVisionPlan = {
        width,
        height,
        grid: { rows, cols },
        resized: { w: resized.width, h: resized.height },
        padded: { w: best.width, h: best.height },
        padOffset,
        tiles,
        featuresPerSide: side,
        featureGrid,
        unpadded,
        unpaddedFeatureShape: { h: curH, w: curW },
        finalFeatureShape: { ...finalShape },
        tokens: { overview, grid, newlines, total: overview + grid + newlines },
    };
    if (downsampled) plan.downsampled = downsampled;
    return plan;
}

/** Image tokens (embeddings) one picture of this size takes, overview and newlines included. */
export function oneVisionTokenCount(size: Size, config: OneVisionConfig = ONEVISION_CONFIG): number {
    return planOneVision(size, config).tokens.total;
}

export interface OneVisionPixels {
    /** 3 x imageSize x imageSize, CHW, normalised. */
    overview: Float32Array;
    /** One 3 x imageSize x imageSize CHW array per tile, row-major tile order. */
    tiles: Float32Array[];
    plan: OneVisionPlan;
}

function checkRgb(rgb: RgbImage): void {
    checkSize(rgb.width, rgb.height);
    if (rgb.data.length !== rgb.width * rgb.height * 3) {
        throw new RangeError(`RGB data length ${rgb.data.length} != ${rgb.width}x${rgb.height}x3`);
    }
}

/** Per-channel lookup table u8 → (u8 * rescale - mean) / std, in float32 like numpy's float32 path. */
function normTables(mean: readonly number[], std: readonly number[], rescale: number): Float32Array[] {
    return [0, 1, 2].map((c) => {
        const t = new Float32Array(256);
        for (let v = 0; v < 256; v++) {
            // transformers: float32(v) * rescale → float32, then (x - mean) / std in float32
            const x = Math.fround(v * rescale);
            t[v] = Math.fround(Math.fround(x - Math.fround(mean[c])) / Math.fround(std[c]));
        }
        return t;
    });
}

/** CHW normalised float32 of a `size x size` window at (x0, y0) of `img`; outside pixels are 0 (black). */
export function windowToChw(img: RgbImage, x0: number, y0: number, size: number, tables: Float32Array[]): Float32Array {
    const plane = size * size;
    const out = new Float32Array(3 * plane);
    const z0 = tables[0][0];
    const z1 = tables[1][0];
    const z2 = tables[2][0];
    for (let y = 0; y < size; y++) {
        const sy = y0 + y;
        const inRow = sy >= 0 && sy < img.height;
        for (let x = 0; x < size; x++) {
            const sx = x0 + x;
            const o = y * size + x;
            if (inRow && sx >= 0 && sx < img.width) {
                const p = (sy * img.width + sx) * 3;
                out[o] = tables[0][img.data[p]];
                out[plane + o] = tables[1][img.data[p + 1]];
                out[2 * plane + o] = tables[2][img.data[p + 2]];
            } else {
                out[o] = z0;
                out[plane + o] = z1;
                out[2 * plane + o] = z2;
            }
        }
    }
    return out;
}

/** An 8-bit `size x size` window at (x0, y0) of `img`; outside pixels are black (the padding of a tile). */
export function windowToRgb(img: RgbImage, x0: number, y0: number, size: number): RgbImage {
    const data = new Uint8Array(size * size * 3);
    const ys = Math.max(0, y0);
    const ye = Math.min(img.height, y0 + size);
    const xs = Math.max(0, x0);
    const xe = Math.min(img.width, x0 + size);
    for (let sy = ys; sy < ye; sy++) {
        const src = (sy * img.width + xs) * 3;
        data.set(img.data.subarray(src, src + (xe - xs) * 3), ((sy - y0) * size + (xs - x0)) * 3);
    }
    return { data, width: size, height: size };
}

/**
 * The resized (not yet padded) picture and the overview, as 8-bit RGB —
 * the exact bytes transformers' PIL backend holds before rescaling.
 */
export function oneVisionResizedImages(
    rgb: RgbImage,
    plan: OneVisionPlan,
    config: OneVisionConfig = ONEVISION_CONFIG,
): { resized: RgbImage; overview: RgbImage } {
    return {
        resized: resizeBicubicPil(rgb, plan.resized.w, plan.resized.h),
        overview: resizeBicubicPil(rgb, config.imageSize, config.imageSize),
    };
}

/** Pixel values for the vision tower: the overview and every tile, as transformers' PIL backend makes them. */
export function preprocessOneVision(rgb: RgbImage, config: OneVisionConfig = ONEVISION_CONFIG): OneVisionPixels {
    checkRgb(rgb);
    const plan = planOneVision({ width: rgb.width, height: rgb.height }, config);
    const tables = normTables(config.imageMean, config.imageStd, config.rescaleFactor);
    const { resized, overview } = oneVisionResizedImages(rgb, plan, config);
    const tiles = plan.tiles.map((t) =>
        windowToChw(resized, t.x - plan.padOffset.x, t.y - plan.padOffset.y, t.size, tables),
    );
    return { overview: windowToChw(overview, 0, 0, config.imageSize, tables), tiles, plan };
}
