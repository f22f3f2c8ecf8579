// Tensor encoders/decoders that match ggml's scalar reference code bit for bit:
// ggml_compute_fp32_to_fp16 (round to nearest even, NaN -> quiet NaN 0x7E00 with the sign kept),
// ggml_compute_fp32_to_bf16 and quantize_row_q8_0_ref. All arithmetic is done in float32
// (Math.fround) exactly as the C code does it.

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

function bitsOf(f: number): number {
    f32buf[0] = f;
    return u32buf[0];
}
function fromBits(w: number): number {
    u32buf[0] = w >>> 0;
    return f32buf[0];
}

const SCALE_TO_INF = 2 ** 112;
const SCALE_TO_ZERO = 2 ** -110;

/**
 * float32 -> IEEE half bits, round to nearest even; overflow gives +-inf, NaN gives 0x7E00 | sign.
 * The argument is first rounded to float32 (the C function takes a float).
 */
export function f32ToF16(x: number): number {
    const f = Math.fround(x);
    let base = Math.fround(Math.fround(Math.abs(f) * SCALE_TO_INF) * SCALE_TO_ZERO);
    const w = bitsOf(f);
    const shl1w = (w << 1) >>> 0;
    const sign = (w & 0x80000000) >>> 0;
    let bias = (shl1w & 0xff000000) >>> 0;
    if (bias < 0x71000000) bias = 0x71000000;
    base = Math.fround(fromBits((bias >>> 1) + 0x07800000) + base);
    const bits = bitsOf(base);
    const expBits = (bits >>> 13) & 0x00007c00;
    const mantissaBits = bits & 0x00000fff;
    const nonsign = expBits + mantissaBits;
    return ((sign >>> 16) | (shl1w > 0xff000000 ? 0x7e00 : nonsign)) & 0xffff;
}

/** IEEE half bits -> number (exact). */
export function f16ToF32(h: number): number {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const man = h & 0x3ff;
    if (exp === 0) return sign * man * 2 ** -24;
    if (exp === 0x1f) return man ? NaN : sign * Infinity;
    return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

/** float32 -> bfloat16 bits (ggml_compute_fp32_to_bf16). */
export function f32ToBf16(x: number): number {
    const i = bitsOf(Math.fround(x));
    if ((i & 0x7fffffff) >>> 0 > 0x7f800000) return ((i >>> 16) | 64) & 0xffff;
    return ((i + (0x7fff + ((i >>> 16) & 1))) >>> 16) & 0xffff;
}

export function bf16ToF32(h: number): number {
    return fromBits((h & 0xffff) << 16);
}

function asBytes(a: ArrayBufferView): Uint8Array {
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Little-endian F32 bytes. */
export function encodeF32(x: ArrayLike<number>): Uint8Array {
    const out = new Uint8Array(x.length * 4);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < x.length; i++) dv.setFloat32(i * 4, x[i], true);
    return out;
}

export function encodeF16(x: ArrayLike<number>): Uint8Array {
    const out = new Uint8Array(x.length * 2);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < x.length; i++) dv.setUint16(i * 2, f32ToF16(x[i]), true);
    return out;
}

export function encodeBF16(x: ArrayLike<number>): Uint8Array {
    const out = new Uint8Array(x.length * 2);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < x.length; i++) dv.setUint16(i * 2, f32ToBf16(x[i]), true);
    return out;
}

export const QK8_0 = 32;
const Q8_0_BLOCK_BYTES = 2 + QK8_0;

/** C roundf: half-way cases away from zero. */
function roundf(x: number): number {
    if (!Number.isFinite(x)) return x;
    return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/**
 * quantize_row_q8_0_ref: per block of 32, d = amax/127 (float32), stored as f16; q = roundf(x * (1/d)).
 * x.length must be a multiple of 32. Non-finite inputs give q = 0 where C's behaviour is undefined.
 */
export function quantizeQ8_0(x: ArrayLike<number>): Uint8Array {
    if (x.length % QK8_0 !== 0) {
        throw new RangeError(`Q8_0 needs a multiple of ${QK8_0} values, got ${x.length}`);
    }
    const nb = x.length / QK8_0;
    const out = new Uint8Array(nb * Q8_0_BLOCK_BYTES);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < nb; i++) {
        let amax = 0;
        for (let j = 0; j < QK8_0; j++) {
            const v = Math.abs(Math.fround(x[i * QK8_0 + j]));
            amax = amax > v ? amax : v; // C's MAX(a, b) ((a) > (b) ? (a) : (b))
        }
        const d = Math.fround(amax / 127);
        const id = d ? Math.fround(1 / d) : 0;
        const o = i * Q8_0_BLOCK_BYTES;
        dv.setUint16(o, f32ToF16(d), true);
        for (let j = 0; j < QK8_0; j++) {
            const q = roundf(Math.fround(Math.fround(x[i * QK8_0 + j]) * id));
            dv.setInt8(o + 2 + j, Number.isFinite(q) ? Math.max(-128, Math.min(127, q)) : 0);
        }
    }
    return out;
}

/** Inverse of quantizeQ8_0 (dequantize_row_q8_0): x = d * q. */
export function dequantizeQ8_0(data: Uint8Array): Float32Array {
    if (data.length % Q8_0_BLOCK_BYTES !== 0) {
        throw new RangeError(`Q8_0 data must be a multiple of ${Q8_0_BLOCK_BYTES} bytes, got ${data.length}`);
    }
    const nb = data.length / Q8_0_BLOCK_BYTES;
    const out = new Float32Array(nb * QK8_0);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < nb; i++) {
        const d = f16ToF32(dv.getUint16(i * Q8_0_BLOCK_BYTES, true));
        for (let j = 0; j < QK8_0; j++) out[i * QK8_0 + j] = d * dv.getInt8(i * Q8_0_BLOCK_BYTES + 2 + j);
    }
    return out;
}

export function decodeF16(data: Uint8Array): Float32Array {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const out = new Float32Array(data.length >>> 1);
    for (let i = 0; i < out.length; i++) out[i] = f16ToF32(dv.getUint16(i * 2, true));
    return out;
}

export function decodeF32(data: Uint8Array): Float32Array {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const out = new Float32Array(data.length >>> 2);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
    return out;
}

export { asBytes };
