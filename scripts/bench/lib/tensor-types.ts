// The matrices of a GGUF file counted by ggml type, and that count as text: shared by bench:types' speed part
// (types-speed.ts, types-report.ts) and its fidelity part (types-fidelity.ts), which both show what a type means.

import { readGgufFile } from '../../../gguf/reader.js';
import { ggmlTypeName } from '../../../gguf/types.js';

export async function tensorTypeCounts(file: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const t of (await readGgufFile(file)).tensors) {
        if (t.dims.length < 2) continue; // norms and biases stay F32 in every type
        const n = ggmlTypeName(t.type);
        counts[n] = (counts[n] ?? 0) + 1;
    }
    return counts;
}

/** "COUNT TYPE, ...", the most common type first */
export const fmtTypes = (c: Record<string, number>) =>
    Object.entries(c)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
