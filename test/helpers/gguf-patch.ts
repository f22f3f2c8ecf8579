// Corrupt-file fixtures for the GGUF reader's tests: one small valid file and ways to patch bytes at named places.
import type { Test } from 'tap';
import { GgmlType, GgufFormatError, GgufType, GgufWriter, readGguf } from '../../gguf/index.js';

/** A small valid file: 3 KVs (string, int32 array, u32) and 2 tensors. */
export async function baseFile(): Promise<Buffer> {
    const w = new GgufWriter();
    w.addString('general.architecture', 'testvalue');
    w.addArray('test.array', GgufType.INT32, [1, 2, 3]);
    w.addU32('test.n', 7);
    w.addTensor('tensor.a', [32], GgmlType.F32, new Float32Array(32).fill(1));
    w.addTensor('tensor.b', [32, 2], GgmlType.F16, new Float32Array(64).fill(2));
    return w.toBuffer();
}

/** Offset just after the (unique) bytes of `s` in buf. */
export function after(buf: Buffer, s: string): number {
    const i = buf.indexOf(Buffer.from(s));
    if (i < 0 || buf.indexOf(Buffer.from(s), i + 1) >= 0) throw new Error(`'${s}' not unique`);
    return i + Buffer.byteLength(s);
}
/** Offset of the u64 length that precedes string `s`. */
export const lenOf = (buf: Buffer, s: string) => after(buf, s) - Buffer.byteLength(s) - 8;

/** A copy of buf changed by f. */
export function patched(buf: Buffer, f: (b: Buffer) => void): Buffer {
    const b = Buffer.from(buf);
    f(b);
    return b;
}

/** buf is refused with a message matching re, as a GgufFormatError. */
export async function rejects(t: Test, buf: Uint8Array, re: RegExp, what: string) {
    await t.rejects(readGguf(buf), re, what);
    await t.rejects(readGguf(buf), GgufFormatError, `${what}: a GgufFormatError`);
}
