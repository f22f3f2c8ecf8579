import { access, constants } from 'node:fs/promises';
import { GgufFormatError, metaValue, readGgufFile } from '../../gguf/reader.js';
import type { GgufHeader } from '../../gguf/types.js';
import { ModelLoadError } from './errors.js';

/**
 * Checks a text model / mmproj pair before llama.cpp sees it. llama.cpp validates text-model shapes at load,
 * but not the projector's: a projector that does not fit aborts the whole process later, in graph building.
 */
export async function validateModelFiles(
    modelPath: string,
    mmprojPath?: string,
): Promise<{ model: GgufHeader; mmproj?: GgufHeader }> {
    // The text model's vocabulary arrays can hold 150k entries: keep a few; the mmproj has only small arrays.
    const model = await readHeader(modelPath, 'model', 64);
    const arch = metaValue(model, 'general.architecture');
    if (typeof arch !== 'string') throw new ModelLoadError(`model file '${modelPath}' has no general.architecture`);
    const nEmbd = metaValue(model, `${arch}.embedding_length`);
    if (typeof nEmbd !== 'number')
        throw new ModelLoadError(`model file '${modelPath}' has no ${arch}.embedding_length`);
    if (!mmprojPath) return { model };
    const mmproj = await readHeader(mmprojPath, 'mmproj', 4096);
    if (metaValue(mmproj, 'clip.has_vision_encoder') !== true) {
        throw new ModelLoadError(
            `mmproj file '${mmprojPath}' has no vision encoder (clip.has_vision_encoder is not true)`,
        );
    }
    checkProjector(mmproj, mmprojPath, nEmbd, modelPath);
    return { model, mmproj };
}

async function readHeader(path: string, what: string, maxArrayValues: number): Promise<GgufHeader> {
    try {
        await access(path, constants.R_OK);
    } catch {
        throw new ModelLoadError(`${what} file '${path}' does not exist or cannot be read`);
    }
    try {
        return await readGgufFile(path, { maxArrayValues });
    } catch (error) {
        if (error instanceof GgufFormatError)
            throw new ModelLoadError(`${what} file '${path}' is not a valid GGUF file: ${error.message}`, {
                cause: error,
            });
        throw error;
    }
}

function dimsOf(header: GgufHeader, name: string): number[] | undefined {
    return header.tensors.find((t) => t.name === name)?.dims;
}

/** The LLaVA-style `mlp` projector: vision width E -> hidden H -> text width D, and a patch grid that fits. */
function checkProjector(mmproj: GgufHeader, path: string, textEmbd: number, modelPath: string): void {
    const projector = metaValue(mmproj, 'clip.projector_type') ?? 'mlp';
    if (projector !== 'mlp') return; // other projectors: mtmd checks them itself
    const fail = (why: string) => {
        throw new ModelLoadError(`mmproj file '${path}' does not fit: ${why}`);
    };
    const E = metaValue(mmproj, 'clip.vision.embedding_length');
    const patch = metaValue(mmproj, 'clip.vision.patch_size');
    const size = metaValue(mmproj, 'clip.vision.image_size');
    if (typeof E !== 'number' || typeof patch !== 'number' || typeof size !== 'number' || patch <= 0) {
        fail('clip.vision.embedding_length, patch_size and image_size are required');
        return;
    }
    const mm0 = dimsOf(mmproj, 'mm.0.weight');
    const mm2 = dimsOf(mmproj, 'mm.2.weight');
    if (!mm0 || !mm2) fail('the mlp projector needs mm.0.weight and mm.2.weight');
    if (mm0![0] !== E) fail(`mm.0.weight takes ${mm0![0]} inputs but the vision tower is ${E} wide`);
    if (mm2![0] !== mm0![1]) fail(`mm.2.weight takes ${mm2![0]} inputs but mm.0.weight gives ${mm0![1]}`);
    if (mm2![1] !== textEmbd) {
        fail(
            `its projector outputs ${mm2![1]}-wide embeddings but the text model '${modelPath}' is ${textEmbd} wide (a projector of another model?)`,
        );
    }
    const patchEmbd = dimsOf(mmproj, 'v.patch_embd.weight');
    if (!patchEmbd || patchEmbd[0] !== patch || patchEmbd[1] !== patch || patchEmbd[3] !== E) {
        fail(`v.patch_embd.weight must be [${patch}, ${patch}, 3, ${E}]`);
    }
    const pos = dimsOf(mmproj, 'v.position_embd.weight');
    const nPatches = Math.floor(size / patch) ** 2 + (dimsOf(mmproj, 'v.class_embd') ? 1 : 0);
    if (!pos || pos[0] !== E || pos[1] !== nPatches) fail(`v.position_embd.weight must be [${E}, ${nPatches}]`);
}
