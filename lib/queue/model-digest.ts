// The identity of a model pair that workers must share: a digest of both GGUFs' metadata and tensor tables
// (read with our GGUF reader: the header only, not the gigabytes of weights), and what the records call it.
import { createHash, type Hash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { readGgufFile } from '../../gguf/reader.js';
import { defaultPolicyVersionFor } from '../chat/index.js';
import { Policy } from '../policy/index.js';
import type { GgufHeader } from '../../gguf/types.js';

export interface ModelPairDigest {
    /** sha256 over both headers, hex. */
    digest: string;
    /** general.name of the text model, else its file name (as the guard names it). */
    name: string;
    /** Basename and size of the text model (what scan records key on). */
    file: string;
    bytes: number;
    mmprojFile: string;
    mmprojBytes: number;
    /** The text model's header, for the chat-format choice (the default policy). */
    header: GgufHeader;
}

/** Reads both headers and digests them. Throws the reader's GgufFormatError for a file that is not GGUF. */
export async function modelPairDigest(model: string, mmproj: string): Promise<ModelPairDigest> {
    const [textHeader, visionHeader] = await Promise.all([readGgufFile(model), readGgufFile(mmproj)]);
    const hash = createHash('sha256').update('llavaguard-model-pair\0');
    digestHeader(hash.update('model\0'), textHeader);
    digestHeader(hash.update('mmproj\0'), visionHeader);
    const name = textHeader.metadata.get('general.name')?.value;
    const [m, p] = await Promise.all([stat(model), stat(mmproj)]);
    return {
        digest: hash.digest('hex'),
        name: typeof name === 'string' && name ? name : basename(model),
        file: basename(model),
        bytes: m.size,
        mmprojFile: basename(mmproj),
        mmprojBytes: p.size,
        header: textHeader,
    };
}

function digestHeader(hash: Hash, header: GgufHeader): void {
    hash.update(`v${header.version}\0a${header.alignment}\0`);
    for (const key of [...header.metadata.keys()].sort()) {
        const v = header.metadata.get(key)!;
        hash.update(
            `${key}\0${v.type}\0${JSON.stringify(v.value, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))}\0`,
        );
    }
    for (const t of header.tensors) hash.update(`${t.name}\0${t.type}\0${t.dims.join(',')}\0${t.offset}\0`);
}

/** The policy the pair's text model was trained with (its wording picked from the header, as the guard does). */
export function defaultPolicyOf(pair: Pick<ModelPairDigest, 'header' | 'file'>): Policy {
    const text = (key: string) => {
        const v = pair.header.metadata.get(key)?.value;
        return typeof v === 'string' ? v : undefined;
    };
    return Policy.default(
        defaultPolicyVersionFor({
            architecture: text('general.architecture'),
            name: text('general.name'),
            chatTemplate: text('tokenizer.chat_template'),
            fileName: pair.file,
            llavaguardVersion: text('llavaguard.version'),
        }),
    );
}
