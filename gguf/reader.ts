// GGUF header reader: parses the magic, version, metadata and tensor infos of a GGUF file without
// reading the tensor data (cursor.ts reads only the header's bytes). Every length and count is checked
// against the bytes actually left before anything is allocated or read.

import { promises as fsp } from 'node:fs';

import { BufferSource, Cursor, FileSource, GgufFormatError, TRUNC_HINT, type ByteSource } from './cursor.js';
import {
    GGML_MAX_DIMS,
    GGML_MAX_NAME,
    GGUF_DEFAULT_ALIGNMENT,
    GGUF_MAGIC,
    GgufType,
    ggmlTypeTraits,
    ggufScalarSize,
    ggufTypeName,
    isGgufType,
    type GgufHeader,
    type GgufMetadataValue,
    type GgufScalar,
    type GgufScalarType,
    type GgufTensorInfo,
} from './types.js';

export { GgufFormatError };

export interface ReadGgufOptions {
    /**
     * Keep at most this many values of each metadata array in memory (the rest is skipped but still
     * validated); `length` always gives the real count and `truncated` is set. Default: keep all.
     */
    maxArrayValues?: number;
    /** Bytes per positioned read when reading a file. Default 1 MiB. */
    chunkSize?: number;
    /** If given, filled with the number of positioned reads and bytes read (to prove header-only reads). */
    stats?: { reads: number; bytesRead: number };
}

// Smallest possible encodings, used to reject counts the remaining bytes could never hold.
const MIN_KV_BYTES = 8 + 1 + 4 + 1; // key length + 1-byte key + type + 1-byte value
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8; // name length + n_dims + one dim + type + offset
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

async function readValue(
    c: Cursor,
    key: string,
    type: number,
    typePos: number,
    opts: ReadGgufOptions,
): Promise<GgufMetadataValue> {
    if (!isGgufType(type)) {
        c.fail(`unknown value type ${type} for key '${key}'`, typePos);
    }
    if (type !== GgufType.ARRAY) {
        const what = `value of key '${key}'`;
        const value = type === GgufType.STRING ? await c.str(what) : await c.scalar(type, what);
        return { type, value } as GgufMetadataValue;
    }
    const elemPos = c.pos;
    const elemType = await c.i32(`array element type of key '${key}'`);
    if (elemType === GgufType.ARRAY) {
        c.fail(`nested arrays are not allowed: key '${key}' is an array of arrays`, elemPos);
    }
    if (!isGgufType(elemType)) {
        c.fail(`unknown array element type ${elemType} for key '${key}'`, elemPos);
    }
    const countPos = c.pos;
    const count = await c.u64(`array length of key '${key}'`);
    const elemSize = ggufScalarSize(elemType) ?? 8; // a string takes at least its 8-byte length
    if (count * BigInt(elemSize) > BigInt(c.remaining)) {
        c.fail(
            `absurd array length ${count} for key '${key}' (${ggufTypeName(elemType)} elements of at ` +
                `least ${elemSize} bytes): only ${c.remaining} bytes remain in the file ${TRUNC_HINT}`,
            countPos,
        );
    }
    const et = elemType as GgufScalarType;
    const n = Number(count);
    const keep = Math.min(n, opts.maxArrayValues ?? n);
    const values: GgufScalar[] = new Array(keep);
    await c.arrayValues(et, n, keep, values, key);
    const out: Extract<GgufMetadataValue, { type: 9 }> = {
        type: GgufType.ARRAY,
        elemType: et,
        value: values,
        length: n,
    };
    if (keep < n) out.truncated = true;
    return out;
}

async function parse(src: ByteSource, path: string | undefined, opts: ReadGgufOptions): Promise<GgufHeader> {
    const c: Cursor = new Cursor(src, Math.max(4096, opts.chunkSize ?? 1 << 20), path);
    if (src.size < 4) {
        c.fail(`not a GGUF file: it is only ${src.size} bytes long, too short for the 'GGUF' magic`, 0);
    }
    const magic = await c.u32('magic');
    if (magic !== GGUF_MAGIC) {
        const bytes = Buffer.alloc(4);
        bytes.writeUInt32LE(magic);
        const shown = [...bytes]
            .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
            .join('');
        c.fail(`not a GGUF file: bad magic '${shown}', expected 'GGUF'`, 0);
    }
    const version = await c.u32('version');
    if (version === 1) c.fail('unsupported GGUF version 1 (GGUFv1 is no longer supported; versions 2 and 3 are)', 4);
    if (version & 0xffff0000 && (version & 0xffff) === 0) {
        c.fail(`unsupported GGUF version ${version} (0x${version.toString(16)}): a big-endian file?`, 4);
    }
    if (version < 2 || version > 3) c.fail(`unsupported GGUF version ${version} (versions 2 and 3 are supported)`, 4);

    const nTensorsPos = c.pos;
    const nTensorsBig = await c.i64('tensor count');
    const nKvPos = c.pos;
    const nKvBig = await c.i64('metadata key/value count');
    const afterHeader = c.remaining;
    if (nTensorsBig < 0n || nTensorsBig * BigInt(MIN_TENSOR_INFO_BYTES) > BigInt(afterHeader)) {
        c.fail(
            `absurd tensor count ${nTensorsBig}: the ${afterHeader} bytes after the header could hold at most ` +
                `${Math.floor(afterHeader / MIN_TENSOR_INFO_BYTES)} tensor infos ${TRUNC_HINT}`,
            nTensorsPos,
        );
    }
    if (nKvBig < 0n || nKvBig * BigInt(MIN_KV_BYTES) > BigInt(afterHeader)) {
        c.fail(
            `absurd metadata key/value count ${nKvBig}: the ${afterHeader} bytes after the header could hold at most ` +
                `${Math.floor(afterHeader / MIN_KV_BYTES)} key/value pairs ${TRUNC_HINT}`,
            nKvPos,
        );
    }
    const nTensors = Number(nTensorsBig);
    const nKv = Number(nKvBig);

    const metadata = new Map<string, GgufMetadataValue>();
    for (let i = 0; i < nKv; i++) {
        const keyPos = c.pos;
        const key = await c.str(`key of metadata entry ${i}`);
        if (key.length === 0) c.fail(`metadata entry ${i} has an empty key`, keyPos);
        if (metadata.has(key)) c.fail(`duplicate metadata key '${key}'`, keyPos);
        const typePos = c.pos;
        const type = await c.i32(`value type of key '${key}'`);
        metadata.set(key, await readValue(c, key, type, typePos, opts));
    }

    let alignment = GGUF_DEFAULT_ALIGNMENT;
    const al = metadata.get('general.alignment');
    if (al) {
        if (al.type !== GgufType.UINT32) {
            c.fail(`metadata key 'general.alignment' must be UINT32 but is ${ggufTypeName(al.type)}`);
        }
        alignment = al.value as number;
        if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
            c.fail(`general.alignment ${alignment} is not a power of 2`);
        }
    }

    const tensors: GgufTensorInfo[] = [];
    const names = new Set<string>();
    for (let i = 0; i < nTensors; i++) {
        const namePos = c.pos;
        const name = await c.str(`name of tensor ${i}`);
        if (Buffer.byteLength(name) >= GGML_MAX_NAME) {
            c.fail(
                `tensor ${i} name '${name}' is too long: ${Buffer.byteLength(name)} bytes, the limit is ${GGML_MAX_NAME - 1}`,
                namePos,
            );
        }
        if (names.has(name)) c.fail(`duplicate tensor name '${name}'`, namePos);
        names.add(name);
        const ndPos = c.pos;
        const nDims = await c.u32(`n_dims of tensor '${name}'`);
        if (nDims < 1 || nDims > GGML_MAX_DIMS) {
            c.fail(`tensor '${name}' has invalid n_dims ${nDims}: must be between 1 and ${GGML_MAX_DIMS}`, ndPos);
        }
        const dims: number[] = [];
        let nElements = 1n;
        for (let d = 0; d < nDims; d++) {
            const dPos = c.pos;
            const ne = await c.i64(`dimension ${d} of tensor '${name}'`);
            if (ne < 0n) c.fail(`tensor '${name}' dimension ${d} is negative (${ne})`, dPos);
            nElements *= ne;
            if (nElements > MAX_SAFE) c.fail(`tensor '${name}' has an absurd number of elements (${nElements})`, dPos);
            dims.push(Number(ne));
        }
        const typePos = c.pos;
        const type = await c.i32(`type of tensor '${name}'`);
        const tr = ggmlTypeTraits(type);
        if (!tr) c.fail(`tensor '${name}' has unknown ggml type ${type}`, typePos);
        if (dims[0] % tr.blockSize !== 0) {
            c.fail(
                `tensor '${name}' of type ${tr.name} has ${dims[0]} elements per row, not a multiple of the block size ${tr.blockSize}`,
                typePos,
            );
        }
        const nbytes = Number(nElements / BigInt(tr.blockSize)) * tr.typeSize;
        const offPos = c.pos;
        const offBig = await c.u64(`data offset of tensor '${name}'`);
        if (offBig > MAX_SAFE) c.fail(`tensor '${name}' has an absurd data offset ${offBig}`, offPos);
        const offset = Number(offBig);
        if (offset % alignment !== 0) {
            c.fail(`tensor '${name}' data offset ${offset} is not aligned to ${alignment} bytes`, offPos);
        }
        tensors.push({ name, dims, type, typeName: tr.name, offset, absoluteOffset: 0, nbytes });
    }

    const headerEnd = c.pos;
    const dataOffset = Math.ceil(headerEnd / alignment) * alignment;
    const fileSize = src.size;
    if (nTensors > 0 && dataOffset > fileSize) {
        c.fail(
            `file is truncated: the data section would start at ${dataOffset} but the file is ${fileSize} bytes`,
            headerEnd,
        );
    }
    const dataSize = fileSize - dataOffset;
    for (const t of tensors) {
        t.absoluteOffset = dataOffset + t.offset;
        if (t.offset + t.nbytes > dataSize) {
            c.fail(
                `tensor '${t.name}' data [${t.offset}, ${t.offset + t.nbytes}) runs past the end of the file ` +
                    `(data section holds ${Math.max(0, dataSize)} bytes)`,
                headerEnd,
            );
        }
    }
    const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < byOffset.length; i++) {
        const prev = byOffset[i - 1];
        const cur = byOffset[i];
        if (cur.offset < prev.offset + prev.nbytes) {
            c.fail(
                `tensor '${cur.name}' data at offset ${cur.offset} overlaps tensor '${prev.name}' ` +
                    `[${prev.offset}, ${prev.offset + prev.nbytes})`,
                headerEnd,
            );
        }
    }

    return { version, metadata, tensors, alignment, dataOffset, fileSize };
}

/** Parses the header of a GGUF file held in memory. */
export async function readGguf(buffer: Uint8Array, opts: ReadGgufOptions = {}): Promise<GgufHeader> {
    return parse(new BufferSource(buffer), undefined, opts);
}

/** Parses the header of a GGUF file, reading only the header bytes from disk. */
export async function readGgufFile(path: string, opts: ReadGgufOptions = {}): Promise<GgufHeader> {
    const fh = await fsp.open(path, 'r');
    try {
        const st = await fh.stat();
        if (!st.isFile()) throw new GgufFormatError('not a GGUF file: not a regular file', { path });
        return await parse(new FileSource(fh, st.size, opts.stats), path, opts);
    } finally {
        await fh.close();
    }
}

/** Reads the raw bytes of one tensor (from a header returned by readGgufFile). */
export async function readTensorData(path: string, tensor: GgufTensorInfo): Promise<Buffer> {
    const fh = await fsp.open(path, 'r');
    try {
        return await new FileSource(fh, Number.MAX_SAFE_INTEGER).readAt(tensor.absoluteOffset, tensor.nbytes);
    } finally {
        await fh.close();
    }
}

/** The plain value of a metadata key (arrays as JS arrays), or undefined. */
export function metaValue(header: Pick<GgufHeader, 'metadata'>, key: string): GgufScalar | GgufScalar[] | undefined {
    return header.metadata.get(key)?.value;
}
