// Fuzz target (a): the GGUF header reader (gguf/reader.ts) and, on every header it accepts, the model-file checks
// that run before llama.cpp (lib/runtime/validate/). The input is a GGUF header; it is read twice, as it is (a
// file that ends where the header ends) and followed by 4 MiB of zeros (so that tensor data ranges can fit and
// the reader gets past its end-of-file checks). Only GgufFormatError and ModelLoadError may come out.
import { GgufFormatError, readGguf } from '../../../gguf/reader.js';
import type { GgufHeader } from '../../../gguf/types.js';
import { ModelLoadError } from '../../../lib/runtime/errors.js';
import { validateMmproj } from '../../../lib/runtime/validate/mmproj.js';
import { validateTextModel } from '../../../lib/runtime/validate/text-model.js';
import { refusedOnlyWith } from './expect.js';

const ZEROS = Buffer.alloc(4 << 20);

export async function fuzz(data: Buffer): Promise<void> {
    await refusedOnlyWith(() => readGguf(data), [GgufFormatError]);
    const padded = Buffer.concat([data, ZEROS]);
    const read = await refusedOnlyWith(() => readGguf(padded), [GgufFormatError]);
    if (read.ok) checkHeader(read.value);
}

/** The checks VisionModel.load runs, on a header from either role (each must refuse what it cannot use). */
function checkHeader(header: GgufHeader): void {
    checkInvariants(header);
    let nEmbd = 192;
    try {
        nEmbd = validateTextModel(header, 'fuzz-model.gguf').nEmbd;
    } catch (error) {
        if (!(error instanceof ModelLoadError)) throw error;
    }
    try {
        validateMmproj(header, 'fuzz-mmproj.gguf', nEmbd, 'fuzz-model.gguf');
    } catch (error) {
        if (!(error instanceof ModelLoadError)) throw error;
    }
}

/** What the reader promises about a header it returns (reader.ts): each tensor's data lies in the file. */
function checkInvariants(h: GgufHeader): void {
    for (const t of h.tensors) {
        const end = t.absoluteOffset + t.nbytes;
        if (!Number.isSafeInteger(end) || t.absoluteOffset < h.dataOffset || end > h.fileSize) {
            throw new Error(`reader accepted tensor ${t.name} at [${t.absoluteOffset}, ${end}) in ${h.fileSize} bytes`);
        }
        if (t.dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
            throw new Error(`reader accepted tensor ${t.name} with dims [${t.dims.join(', ')}]`);
        }
    }
}
