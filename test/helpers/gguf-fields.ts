// Reading a GGUF header's metadata in the model-file tests: a value, its type, an array (or a clear error).
import { GgufType, type GgufHeader } from '../../gguf/index.js';

export const val = (h: GgufHeader, k: string) => h.metadata.get(k)?.value;
export const typeOf = (h: GgufHeader, k: string) => h.metadata.get(k)?.type;
export function arr(h: GgufHeader, k: string): { elemType: number; value: unknown[] } {
    const v = h.metadata.get(k);
    if (!v || v.type !== GgufType.ARRAY) throw new Error(`${k} is not an array`);
    return v;
}
