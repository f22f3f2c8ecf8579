// The tensor planner: every checkpoint tensor's name and shape is checked against the safetensors headers
// before a byte is written; its data is read, transformed and encoded while the GGUF is written.

import { GgmlType } from '../types.js';
import type { GgufWriter } from '../writer.js';
import { ConvertError, type SafetensorsModel } from './safetensors.js';

export type OutType = 'f32' | 'f16' | 'q8_0';
export const OUT_TYPES: readonly OutType[] = ['f32', 'f16', 'q8_0'];

export type TensorKind = 'matrix' | 'vector' | 'conv' | 'f32';
/** A row reordering, applied to float32 values or to raw F16 / F32 words alike. */
export type RowTransform = <T extends Float32Array | Uint16Array>(v: T) => T;

export class TensorPlanner {
    readonly used = new Set<string>();
    constructor(
        readonly st: SafetensorsModel,
        readonly outType: OutType,
    ) {}

    has(name: string): boolean {
        return this.st.get(name) !== undefined;
    }

    /**
     * Checks `hf` against the expected PyTorch shape and adds it to `w` as `gguf` (ggml dims = the
     * shape reversed). The data is read, transformed and encoded during write().
     */
    add(w: GgufWriter, gguf: string, hf: string, shape: number[], kind: TensorKind, transform?: RowTransform): void {
        const t = this.st.get(hf);
        if (!t) throw new ConvertError(`missing tensor '${hf}' (for ${gguf})`);
        if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
            throw new ConvertError(`tensor '${hf}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
        }
        if (!['F32', 'F16', 'BF16'].includes(t.dtype))
            throw new ConvertError(`tensor '${hf}': dtype ${t.dtype} is not supported (F32, F16, BF16 are)`);
        this.used.add(hf);
        const dims = [...shape].reverse();
        const type = this.typeFor(gguf, dims, kind);
        // same type in and out (F32 -> F32, F16 -> F16): the bytes pass through (permuted as u16/u32 rows)
        const passthrough =
            (t.dtype === 'F32' && type === GgmlType.F32) || (t.dtype === 'F16' && type === GgmlType.F16);
        w.addTensor(gguf, dims, type, async () => {
            if (passthrough) {
                const raw = await this.st.readRaw(hf);
                if (!transform) return raw;
                const aligned = new Uint8Array(raw.byteLength);
                aligned.set(raw);
                const view = t.dtype === 'F32' ? new Float32Array(aligned.buffer) : new Uint16Array(aligned.buffer);
                const out = transform(view);
                return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
            }
            const v = await this.st.readF32(hf);
            return transform ? transform(v) : v;
        });
    }

    typeFor(gguf: string, dims: number[], kind: TensorKind): number {
        if (
            kind === 'vector' ||
            kind === 'f32' ||
            dims.length <= 1 ||
            gguf.endsWith('_norm.weight') ||
            !gguf.endsWith('.weight')
        )
            return GgmlType.F32;
        if (kind === 'conv') return this.outType === 'f32' ? GgmlType.F32 : GgmlType.F16;
        switch (this.outType) {
            case 'f32':
                return GgmlType.F32;
            case 'f16':
                return GgmlType.F16;
            // as llama.cpp's converter: rows that are not a multiple of the block fall back to F16
            case 'q8_0':
                return dims[0]! % 32 === 0 ? GgmlType.Q8_0 : GgmlType.F16;
        }
    }

    /** Throws on tensors of the checkpoint that neither were converted nor are known to be unused. */
    checkAllUsed(ignore: (name: string) => boolean): void {
        const extra = [...this.st.tensors.keys()].filter((n) => !this.used.has(n) && !ignore(n));
        if (extra.length) {
            throw new ConvertError(
                `unexpected tensor${extra.length > 1 ? 's' : ''} in the checkpoint: ${extra
                    .slice(0, 8)
                    .map((n) => `'${n}'`)
                    .join(', ')}${extra.length > 8 ? ` and ${extra.length - 8} more` : ''}`,
            );
        }
    }
}

/**
 * llama.cpp's LlamaModel.permute: HF stores each head's rotary halves [x0..x(d/2-1), y0..]; llama.cpp's
 * non-NeoX rope wants them interleaved [x0, y0, x1, y1, ...]. Works on a weight [rows, cols] or a bias [rows].
 */
export function permuteQK<T extends Float32Array | Uint16Array>(v: T, nHead: number, rows: number): T {
    const cols = v.length / rows;
    const hd = rows / nHead;
    const half = hd / 2;
    const out = new (v.constructor as new (n: number) => T)(v.length);
    for (let h = 0; h < nHead; h++) {
        for (let i = 0; i < half; i++) {
            for (let j = 0; j < 2; j++) {
                const dst = h * hd + i * 2 + j;
                const src = h * hd + j * half + i;
                out.set(v.subarray(src * cols, (src + 1) * cols) as T, dst * cols);
            }
        }
    }
    return out;
}
