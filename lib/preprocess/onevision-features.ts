// LLaVA-OneVision's feature arrangement (transformers' `pack_image_features`): the tiles' feature maps stitched,
// unpadded, downsampled (anyres_max_N) and given a newline per row, after the overview. The layout comes from
// planOneVision (onevision.ts).
import type { OneVisionPlan } from './onevision.js';

/**
 * torch.nn.functional.interpolate(mode='bilinear', align_corners=False) with an
 * explicit output size, on a [h x w x dim] map (token-major): half-pixel
 * centres, source index clamped at 0, no antialiasing. Index math in float32
 * as PyTorch's CPU kernel does it for float tensors.
 */
export function bilinearResizeHWC(
    src: Float32Array,
    ih: number,
    iw: number,
    dim: number,
    oh: number,
    ow: number,
): Float32Array {
    const out = new Float32Array(oh * ow * dim);
    const axis = (inSize: number, outSize: number) => {
        const scale = Math.fround(inSize / outSize);
        const i0 = new Int32Array(outSize);
        const i1 = new Int32Array(outSize);
        const l0 = new Float32Array(outSize);
        const l1 = new Float32Array(outSize);
        for (let d = 0; d < outSize; d++) {
            let real = Math.fround(scale * (d + 0.5) - 0.5);
            if (real < 0) real = 0;
            const a = Math.trunc(real);
            const lambda = Math.min(Math.max(Math.fround(real - a), 0), 1);
            i0[d] = a;
            i1[d] = a + (a < inSize - 1 ? 1 : 0);
            l1[d] = lambda;
            l0[d] = Math.fround(1 - lambda);
        }
        return { i0, i1, l0, l1 };
    };
    const H = axis(ih, oh);
    const W = axis(iw, ow);
    for (let y = 0; y < oh; y++) {
        const r0 = H.i0[y] * iw;
        const r1 = H.i1[y] * iw;
        const h0 = H.l0[y];
        const h1 = H.l1[y];
        for (let x = 0; x < ow; x++) {
            const c0 = W.i0[x];
            const c1 = W.i1[x];
            const w0 = W.l0[x];
            const w1 = W.l1[x];
            const p00 = (r0 + c0) * dim;
            const p01 = (r0 + c1) * dim;
            const p10 = (r1 + c0) * dim;
            const p11 = (r1 + c1) * dim;
            const o = (y * ow + x) * dim;
            for (let k = 0; k < dim; k++) {
                out[o + k] =
                    h0 * (w0 * src[p00 + k] + w1 * src[p01 + k]) + h1 * (w0 * src[p10 + k] + w1 * src[p11 + k]);
            }
        }
    }
    return out;
}

/**
 * `pack_image_features` for one image: stitch the tiles' feature maps, unpad,
 * downsample (anyres_max_N), append a newline after each row, put the
 * overview first. Returns [plan.tokens.total x dim], token-major.
 */
export function packFeatures(
    tileFeatures: Float32Array[] | Float32Array,
    overviewFeatures: Float32Array,
    newline: Float32Array,
    plan: OneVisionPlan,
): Float32Array {
    const dim = newline.length;
    const side = plan.featuresPerSide;
    const perTile = side * side;
    const nTiles = plan.tiles.length;
    if (dim < 1) throw new RangeError('newline embedding is empty');
    if (overviewFeatures.length !== perTile * dim) {
        throw new RangeError(`overview features: ${overviewFeatures.length} values, expected ${perTile}x${dim}`);
    }
    const tileAt: (t: number) => [Float32Array, number] = Array.isArray(tileFeatures)
        ? (t) => [tileFeatures[t], 0]
        : (t) => [tileFeatures as Float32Array, t * perTile * dim];
    if (Array.isArray(tileFeatures)) {
        if (tileFeatures.length !== nTiles)
            throw new RangeError(`${tileFeatures.length} tile feature arrays, plan has ${nTiles} tiles`);
        for (const f of tileFeatures) {
            if (f.length !== perTile * dim)
                throw new RangeError(`tile features: ${f.length} values, expected ${perTile}x${dim}`);
        }
    } else if (tileFeatures.length !== nTiles * perTile * dim) {
        throw new RangeError(`tile features: ${tileFeatures.length} values, expected ${nTiles}x${perTile}x${dim}`);
    }
    const { top, left, h: uh, w: uw } = plan.unpadded;
    // the unpadded region of the stitched map, [uh x uw x dim]
    const map = new Float32Array(uh * uw * dim);
    const cols = plan.grid.cols;
    for (let y = 0; y < uh; y++) {
        const gy = top + y;
        const tr = Math.trunc(gy / side);
        const fy = gy - tr * side;
        for (let x = 0; x < uw; x++) {
            const gx = left + x;
            const tc = Math.trunc(gx / side);
            const fx = gx - tc * side;
            const [arr, base] = tileAt(tr * cols + tc);
            const s = base + (fy * side + fx) * dim;
            map.set(arr.subarray(s, s + dim), (y * uw + x) * dim);
        }
    }
    let fh = uh;
    let fw = uw;
    let fin: Float32Array = map;
    if (plan.downsampled) {
        fh = plan.downsampled.h;
        fw = plan.downsampled.w;
        fin = bilinearResizeHWC(map, uh, uw, dim, fh, fw);
    }
    const out = new Float32Array(plan.tokens.total * dim);
    out.set(overviewFeatures, 0);
    let o = perTile * dim;
    for (let y = 0; y < fh; y++) {
        out.set(fin.subarray(y * fw * dim, (y + 1) * fw * dim), o);
        o += fw * dim;
        out.set(newline, o);
        o += dim;
    }
    if (o !== out.length) throw new Error(`internal: packed ${o / dim} tokens, plan says ${plan.tokens.total}`);
    return out;
}
