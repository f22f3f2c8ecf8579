// Crafted (hostile) GGUF files for tests: a copy of a real file with some metadata values replaced, removed or
// added and some tensors reshaped, dropped or added. The result is a well-formed GGUF: only what it says is wrong.
import { readGgufFile, readTensorData } from '../../gguf/reader.js';
import {
    ggmlTensorBytes,
    GgufType,
    type GgufScalar,
    type GgufScalarType,
    type GgufTensorInfo,
} from '../../gguf/types.js';
import { GgufWriter } from '../../gguf/writer.js';

/** A metadata value to write: a scalar of `type`, or an array of `elemType` when type is ARRAY. */
export type CraftedValue =
    | { type: GgufScalarType; value: GgufScalar }
    | { type: typeof GgufType.ARRAY; elemType: GgufScalarType; value: GgufScalar[] };

export interface GgufEdits {
    /** Keys to set (replacing the file's value in place, or appended). */
    set?: Record<string, CraftedValue>;
    /** Keys to remove. */
    remove?: string[];
    /** Per tensor: new dims, or null to drop it; undefined keeps it. Data of reshaped tensors is zeros. */
    tensors?: (t: GgufTensorInfo) => number[] | null | undefined;
    /** Tensors to append (zero data). */
    addTensors?: Array<{ name: string; dims: number[]; type?: number }>;
}

/** Writes `dst`: `src` with the edits applied. */
export async function craftGguf(src: string, dst: string, edits: GgufEdits): Promise<string> {
    const h = await readGgufFile(src);
    const w = new GgufWriter({ alignment: h.alignment });
    const set = { ...edits.set };
    for (const [key, kv] of h.metadata) {
        if (key === 'general.alignment' || edits.remove?.includes(key)) continue;
        const v: CraftedValue = set[key] ?? (kv as CraftedValue);
        delete set[key];
        add(w, key, v);
    }
    for (const [key, v] of Object.entries(set)) add(w, key, v);
    for (const t of h.tensors) {
        const dims = edits.tensors?.(t);
        if (dims === null) continue;
        if (dims === undefined) w.addTensor(t.name, t.dims, t.type, await readTensorData(src, t));
        else w.addTensor(t.name, dims, t.type, new Uint8Array(ggmlTensorBytes(dims, t.type)));
    }
    for (const t of edits.addTensors ?? []) {
        const type = t.type ?? 0;
        w.addTensor(t.name, t.dims, type, new Uint8Array(ggmlTensorBytes(t.dims, type)));
    }
    await w.write(dst);
    return dst;
}

function add(w: GgufWriter, key: string, v: CraftedValue): void {
    if (v.type === GgufType.ARRAY) w.addKV(key, GgufType.ARRAY, v.value, v.elemType);
    else w.addKV(key, v.type, v.value);
}

export const u32 = (value: number): CraftedValue => ({ type: GgufType.UINT32, value });
export const f32 = (value: number): CraftedValue => ({ type: GgufType.FLOAT32, value });
export const str = (value: string): CraftedValue => ({ type: GgufType.STRING, value });
export const bool = (value: boolean): CraftedValue => ({ type: GgufType.BOOL, value });
export const i32s = (value: number[]): CraftedValue => ({ type: GgufType.ARRAY, elemType: GgufType.INT32, value });
export const f32s = (value: number[]): CraftedValue => ({ type: GgufType.ARRAY, elemType: GgufType.FLOAT32, value });
