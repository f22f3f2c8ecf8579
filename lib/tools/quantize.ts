import { rename, rm } from 'node:fs/promises';
import { loadAddon } from '../bindings/loadAddon.js';
import { validateModelFiles } from '../runtime/validateModelFiles.js';

export type QuantizeType = 'q4_k_m' | 'q5_k_m' | 'q8_0' | 'q4_0' | 'f16';
export const QUANTIZE_TYPES: readonly QuantizeType[] = ['q4_k_m', 'q5_k_m', 'q8_0', 'q4_0', 'f16'];

/**
 * Quantizes a text-model GGUF with llama.cpp's own quantizer. The mmproj stays as it is (llama.cpp quantizes
 * vision towers poorly; keep it F16). Written to OUT.part and renamed: nothing half-written under OUT.
 */
export async function quantizeModel(
    input: string,
    output: string,
    type: QuantizeType,
    threads?: number,
): Promise<void> {
    if (!QUANTIZE_TYPES.includes(type)) throw new TypeError(`type must be one of ${QUANTIZE_TYPES.join(', ')}`);
    await validateModelFiles(input);
    const part = `${output}.part`;
    try {
        await loadAddon().quantize({ input, output: part, type, threads });
        await rename(part, output);
    } catch (error) {
        await rm(part, { force: true });
        throw error;
    }
}
