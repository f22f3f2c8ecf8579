// Writing Hugging Face checkpoint files in TypeScript: the .safetensors layout (length prefix, JSON header padded
// to 8 bytes, data in name order) and a SentencePiece tokenizer.model (only its `pieces` field).

import { promises as fsp } from 'node:fs';

import { encodeBF16, encodeF16, encodeF32 } from '../../encode.js';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export interface HfTensor {
    shape: number[];
    data: Float32Array;
    dtype?: SafetensorsDtype;
}

export interface SafetensorsEntry {
    name: string;
    shape: number[];
    dtype: SafetensorsDtype;
}

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * The length prefix + JSON header of a .safetensors file whose data follows in name order (as the
 * Python writer orders same-dtype tensors), padded to 8 bytes; shared by the in-memory writer below
 * and the streaming one of shaped-hf.ts.
 */
export function safetensorsHeader(entries: SafetensorsEntry[]): {
    header: Buffer;
    order: SafetensorsEntry[];
    dataBytes: number;
} {
    const order = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let off = 0;
    for (const e of order) {
        const bytes = e.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[e.dtype];
        header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + bytes] };
        off += bytes;
    }
    let json = JSON.stringify(header);
    while ((8 + Buffer.byteLength(json)) % 8) json += ' ';
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    return { header: Buffer.concat([len, Buffer.from(json)]), order, dataBytes: off };
}

/** Writes one .safetensors file (tensors in name order, header padded to 8 bytes). */
export async function writeSafetensors(
    file: string,
    tensors: Map<string, HfTensor>,
    dtype: SafetensorsDtype = 'F32',
): Promise<void> {
    const entries = [...tensors].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype ?? dtype }));
    const { header, order } = safetensorsHeader(entries);
    const blobs = order.map((e) => {
        const data = tensors.get(e.name)!.data;
        return e.dtype === 'F32' ? encodeF32(data) : e.dtype === 'F16' ? encodeF16(data) : encodeBF16(data);
    });
    await fsp.writeFile(file, Buffer.concat([header, ...blobs]));
}

/** Encodes SentencePiece pieces as a ModelProto (only the `pieces` field). */
export function encodeSentencePieceModel(pieces: Array<{ piece: string; score: number; type: number }>): Buffer {
    const varint = (n: number): number[] => {
        const out: number[] = [];
        while (n >= 0x80) {
            out.push((n & 0x7f) | 0x80);
            n = Math.floor(n / 128);
        }
        out.push(n);
        return out;
    };
    const parts: Buffer[] = [];
    for (const p of pieces) {
        const s = Buffer.from(p.piece, 'utf8');
        const f = Buffer.alloc(4);
        f.writeFloatLE(p.score);
        const msg = Buffer.concat([
            Buffer.from([0x0a, ...varint(s.length)]),
            s,
            Buffer.from([0x15]),
            f,
            Buffer.from([0x18, ...varint(p.type)]),
        ]);
        parts.push(Buffer.from([0x0a, ...varint(msg.length)]), msg);
    }
    return Buffer.concat(parts);
}
