/**
 * Pillow's `Image.resize(..., resample=BICUBIC)` for 8-bit RGB, reproduced
 * bit for bit (Pillow's src/libImaging/Resample.c): a separable convolution,
 * horizontal pass first into an 8-bit intermediate, then vertical; the
 * filter is widened by the scale when downscaling (antialiasing); the
 * coefficients are normalised per output pixel, converted to 22-bit fixed
 * point, and every pass rounds and clamps to 0..255.
 *
 * transformers' PIL backend resizes uint8 images through exactly this code,
 * so matching it makes the preprocessed pixels identical, not just close.
 */

/** Interleaved 8-bit RGB pixels, row-major, `data.length === width * height * 3`. */
export interface RgbImage {
    data: Uint8Array;
    width: number;
    height: number;
}

const PRECISION_BITS = 32 - 8 - 2;

/** Pillow's bicubic kernel, a = -0.5, support 2. */
function bicubicFilter(x: number): number {
    const a = -0.5;
    if (x < 0) x = -x;
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
}

interface Coeffs {
    ksize: number;
    /** [xmin, count] per output pixel. */
    bounds: Int32Array;
    /** Fixed-point coefficients, ksize per output pixel. */
    kk: Int32Array;
}

/** precompute_coeffs + normalize_coeffs_8bpc, for a box covering the whole input. */
function precomputeCoeffs(inSize: number, outSize: number): Coeffs {
    const support0 = 2; // bicubic
    const in0 = 0;
    const in1 = inSize;
    const scale = (in1 - in0) / outSize;
    const filterscale = scale < 1 ? 1 : scale;
    const support = support0 * filterscale;
    const ksize = Math.ceil(support) * 2 + 1;
    const bounds = new Int32Array(outSize * 2);
    const kk = new Int32Array(outSize * ksize);
    const k = new Float64Array(ksize);
    const ss = 1 / filterscale;
    for (let xx = 0; xx < outSize; xx++) {
        const center = in0 + (xx + 0.5) * scale;
        let ww = 0;
        let xmin = Math.trunc(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        let xmax = Math.trunc(center + support + 0.5);
        if (xmax > inSize) xmax = inSize;
        xmax -= xmin;
        for (let x = 0; x < xmax; x++) {
            const w = bicubicFilter((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (let x = 0; x < ksize; x++) {
            let v = 0;
            if (x < xmax) v = ww !== 0 ? k[x] / ww : k[x];
            // (int)(±0.5 + v * (1 << PRECISION_BITS)), C truncation
            kk[xx * ksize + x] =
                v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
        }
        bounds[xx * 2] = xmin;
        bounds[xx * 2 + 1] = xmax;
    }
    return { ksize, bounds, kk };
}

function clip8(v: number): number {
    if (v >= (1 << PRECISION_BITS) * 256) return 255;
    if (v <= 0) return 0;
    return v >> PRECISION_BITS;
}

/** Rows [rowFirst, rowFirst + rows) of `src`, resized horizontally to `outW`. */
function resampleHorizontal(src: RgbImage, outW: number, rowFirst: number, rows: number, c: Coeffs): Uint8Array {
    const out = new Uint8Array(outW * rows * 3);
    const { ksize, bounds, kk } = c;
    const sd = src.data;
    const inStride = src.width * 3;
    const half = 1 << (PRECISION_BITS - 1);
    for (let yy = 0; yy < rows; yy++) {
        const rowBase = (yy + rowFirst) * inStride;
        const outBase = yy * outW * 3;
        for (let xx = 0; xx < outW; xx++) {
            const xmin = bounds[xx * 2];
            const xmax = bounds[xx * 2 + 1];
            const kOff = xx * ksize;
            let s0 = half;
            let s1 = half;
            let s2 = half;
            let p = rowBase + xmin * 3;
            for (let x = 0; x < xmax; x++, p += 3) {
                const w = kk[kOff + x];
                s0 += sd[p] * w;
                s1 += sd[p + 1] * w;
                s2 += sd[p + 2] * w;
            }
            const o = outBase + xx * 3;
            out[o] = clip8(s0);
            out[o + 1] = clip8(s1);
            out[o + 2] = clip8(s2);
        }
    }
    return out;
}

/** `src` (any height) resized vertically to `outH`; bounds are relative to `src`'s first row. */
function resampleVertical(src: RgbImage, outH: number, c: Coeffs, boundsShift: number): Uint8Array {
    const w = src.width;
    const out = new Uint8Array(w * outH * 3);
    const { ksize, bounds, kk } = c;
    const sd = src.data;
    const stride = w * 3;
    const half = 1 << (PRECISION_BITS - 1);
    for (let yy = 0; yy < outH; yy++) {
        const ymin = bounds[yy * 2] - boundsShift;
        const ymax = bounds[yy * 2 + 1];
        const kOff = yy * ksize;
        const outBase = yy * stride;
        for (let i = 0; i < stride; i++) {
            let s = half;
            let p = ymin * stride + i;
            for (let y = 0; y < ymax; y++, p += stride) s += sd[p] * kk[kOff + y];
            out[outBase + i] = clip8(s);
        }
    }
    return out;
}

/** PIL `img.resize((outW, outH), Image.BICUBIC)` for 8-bit RGB. */
export function resizeBicubicPil(src: RgbImage, outW: number, outH: number): RgbImage {
    if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW < 1 || outH < 1) {
        throw new RangeError(`resize target must be positive integers, got ${outW}x${outH}`);
    }
    if (src.data.length !== src.width * src.height * 3) {
        throw new RangeError(`RGB data length ${src.data.length} != ${src.width}x${src.height}x3`);
    }
    if (outW === src.width && outH === src.height) {
        return { data: src.data.slice(), width: outW, height: outH };
    }
    const needH = outW !== src.width;
    const needV = outH !== src.height;
    const ch = precomputeCoeffs(src.width, outW);
    const cv = precomputeCoeffs(src.height, outH);
    let cur: RgbImage = src;
    let shift = 0;
    if (needH) {
        const first = cv.bounds[0];
        const last = cv.bounds[outH * 2 - 2] + cv.bounds[outH * 2 - 1];
        // Pillow only resizes the rows the vertical pass reads; without a
        // vertical pass that is every row (bounds are then the identity).
        const rowFirst = needV ? first : 0;
        const rows = needV ? last - first : src.height;
        cur = { data: resampleHorizontal(src, outW, rowFirst, rows, ch), width: outW, height: rows };
        shift = rowFirst;
    }
    if (needV) {
        cur = { data: resampleVertical(cur, outH, cv, shift), width: outW, height: outH };
    }
    return cur;
}
