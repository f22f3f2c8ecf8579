import { access, constants } from 'node:fs/promises';
import { GgufFormatError, readGgufFile } from '../../gguf/reader.js';
import type { GgufHeader } from '../../gguf/types.js';
import { ModelLoadError } from './errors.js';
import { validateMmproj } from './validate/mmproj.js';
import { validateTextModel } from './validate/text-model.js';

/**
 * Checks a text model / mmproj pair before llama.cpp sees it: every hyper-parameter llama.cpp and clip.cpp
 * assert on or divide by, and each tensor's shape against them (validate/). An assert inside llama.cpp aborts
 * the whole process and cannot be caught, so a file it would abort on must be refused here, with a
 * ModelLoadError naming the file, the key and the bound.
 */
export async function validateModelFiles(
    modelPath: string,
    mmprojPath?: string,
): Promise<{ model: GgufHeader; mmproj?: GgufHeader }> {
    // Arrays are read whole: the vocabulary must be checked for duplicates (llama-vocab.cpp asserts on them).
    const model = await readHeader(modelPath, 'model');
    const text = validateTextModel(model, modelPath);
    if (!mmprojPath) return { model };
    const mmproj = await readHeader(mmprojPath, 'mmproj');
    validateMmproj(mmproj, mmprojPath, text.nEmbd, modelPath);
    return { model, mmproj };
}

async function readHeader(path: string, what: string): Promise<GgufHeader> {
    try {
        await access(path, constants.R_OK);
    } catch {
        throw new ModelLoadError(`${what} file '${path}' does not exist or cannot be read`);
    }
    try {
        return await readGgufFile(path);
    } catch (error) {
        if (error instanceof GgufFormatError)
            throw new ModelLoadError(`${what} file '${path}' is not a valid GGUF file: ${error.message}`, {
                cause: error,
            });
        throw error;
    }
}
