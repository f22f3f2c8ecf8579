// Reading a GGUF file plan (gguf/synthetic/plan.ts) in tests: a metadata value, a tensor, its dims, and
// assertions over several of them at once.
import type { Test } from 'tap';
import type { GgufFilePlan, PlannedTensor } from '../../gguf/synthetic/shapes.js';

export const meta = (p: GgufFilePlan, key: string) => p.metadata.find((m) => m.key === key)?.value;
export const tensor = (p: GgufFilePlan, name: string): PlannedTensor | undefined =>
    p.tensors.find((x) => x.name === name);
export const dims = (p: GgufFilePlan, name: string) => tensor(p, name)?.dims;

/** Each metadata key holds its value (arrays compared element by element). */
export function expectMeta(t: Test, p: GgufFilePlan, expected: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(expected)) t.strictSame(meta(p, key), value, key);
}

/** Each tensor has its dims. */
export function expectDims(t: Test, p: GgufFilePlan, expected: Record<string, number[]>): void {
    for (const [name, value] of Object.entries(expected)) t.same(dims(p, name), value, name);
}
