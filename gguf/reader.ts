// GGUF header reader: parses the magic, version, metadata and tensor infos of a GGUF file without
// reading the tensor data. Files are read with positioned reads through a small window, so a
// multi-GB model costs only the size of its header. Every length and count is checked against the
// bytes actually left before anything is allocated or read.

import { promises as fsp } from 'node:fs';

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

/** A file (or buffer) that is not a well-formed GGUF file. */
export class GgufFormatError extends Error {
    /** Byte offset where the problem was found, when known. */
    readonly offset: number | undefined;
    /** File path, when reading a file. */
    readonly path: string | undefined;

    constructor(message: string, opts: { offset?: number; path?: string } = {}) {
        const where = [
            opts.path !== undefined ? `in ${opts.path}` : undefined,
            opts.offset !== undefined ? `at byte offset ${opts.offset}` : undefined,
        ]
            .filter(Boolean)
            .join(' ');
        super(where ? `${message} (${where})` : message);
        this.name = 'GgufFormatError';
        this.offset = opts.offset;
        this.path = opts.path;
    }
}

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

interface ByteSource {
    readonly size: number;
    /** Reads exactly `len` bytes at `pos`; the caller guarantees pos + len <= size. */
    readAt(pos: number, len: number): Promise<Buffer>;
}

class BufferSource implements ByteSource {
    constructor(private readonly buf: Uint8Array) {}
    get size(): number {
        return this.buf.byteLength;
    }
    async readAt(pos: number, len: number): Promise<Buffer> {
        return Buffer.from(this.buf.buffer, this.buf.byteOffset + pos, len);
    }
}

class FileSource implements ByteSource {
    constructor(
        private readonly fh: fsp.FileHandle,
        readonly size: number,
        private readonly stats?: { reads: number; bytesRead: number },
    ) {}
    async readAt(pos: number, len: number): Promise<Buffer> {
        const out = Buffer.allocUnsafeSlow(len); // never a slice of the shared pool
        let done = 0;
        while (done < len) {
            const { bytesRead } = await this.fh.read(out, done, len - done, pos + done);
            if (this.stats) {
                this.stats.reads++;
                this.stats.bytesRead += bytesRead;
            }
            if (bytesRead === 0) {
                throw new GgufFormatError(`file is truncated: end of file while reading ${len} bytes`, {
                    offset: pos + done,
                });
            }
            done += bytesRead;
        }
        return out;
    }
}

// Smallest possible encodings, used to reject counts the remaining bytes could never hold.
const MIN_KV_BYTES = 8 + 1 + 4 + 1; // key length + 1-byte key + type + 1-byte value
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8; // name length + n_dims + one dim + type + offset
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TRUNC_HINT = '(corrupt or truncated file)';

const textDecoder = new TextDecoder('utf-8');

class Cursor {
    private buf: Buffer = Buffer.alloc(0);
    private bufStart = 0;
    pos = 0;

    constructor(
        private readonly src: ByteSource,
        private readonly chunk: number,
        readonly path: string | undefined,
    ) {}

    get size(): number {
        return this.src.size;
    }

    get remaining(): number {
        return this.src.size - this.pos;
    }

    fail(message: string, offset: number = this.pos): never {
        throw new GgufFormatError(message, { offset, path: this.path });
    }

    /** Makes [pos, pos + n) available, or fails with a "truncated" error naming `what`. */
    async need(n: number, what: string): Promise<void> {
        if (this.pos + n > this.src.size) {
            this.fail(
                `file is truncated: ${what} needs ${n} bytes but only ${Math.max(0, this.remaining)} remain ` +
                    `(file size ${this.src.size})`,
            );
        }
        const off = this.pos - this.bufStart;
        if (off >= 0 && off + n <= this.buf.length) return;
        const len = Math.min(Math.max(n, this.chunk), this.src.size - this.pos);
        this.buf = await this.src.readAt(this.pos, len);
        this.bufStart = this.pos;
    }

    private has(n: number): boolean {
        const off = this.pos - this.bufStart;
        return off >= 0 && off + n <= this.buf.length;
    }

    private at(): number {
        return this.pos - this.bufStart;
    }

    async u8(what: string): Promise<number> {
        if (!this.has(1)) await this.need(1, what);
        const v = this.buf.readUInt8(this.at());
        this.pos += 1;
        return v;
    }
    async i8(what: string): Promise<number> {
        if (!this.has(1)) await this.need(1, what);
        const v = this.buf.readInt8(this.at());
        this.pos += 1;
        return v;
    }
    async u16(what: string): Promise<number> {
        if (!this.has(2)) await this.need(2, what);
        const v = this.buf.readUInt16LE(this.at());
        this.pos += 2;
        return v;
    }
    async i16(what: string): Promise<number> {
        if (!this.has(2)) await this.need(2, what);
        const v = this.buf.readInt16LE(this.at());
        this.pos += 2;
        return v;
    }
    async u32(what: string): Promise<number> {
        if (!this.has(4)) await this.need(4, what);
        const v = this.buf.readUInt32LE(this.at());
        this.pos += 4;
        return v;
    }
    async i32(what: string): Promise<number> {
        if (!this.has(4)) await this.need(4, what);
        const v = this.buf.readInt32LE(this.at());
        this.pos += 4;
        return v;
    }
    async f32(what: string): Promise<number> {
        if (!this.has(4)) await this.need(4, what);
        const v = this.buf.readFloatLE(this.at());
        this.pos += 4;
        return v;
    }
    async f64(what: string): Promise<number> {
        if (!this.has(8)) await this.need(8, what);
        const v = this.buf.readDoubleLE(this.at());
        this.pos += 8;
        return v;
    }
    async u64(what: string): Promise<bigint> {
        if (!this.has(8)) await this.need(8, what);
        const v = this.buf.readBigUInt64LE(this.at());
        this.pos += 8;
        return v;
    }
    async i64(what: string): Promise<bigint> {
        if (!this.has(8)) await this.need(8, what);
        const v = this.buf.readBigInt64LE(this.at());
        this.pos += 8;
        return v;
    }

    /** A u64 length-prefixed string whose length must fit in the bytes left. */
    async str(what: string): Promise<string> {
        const lenPos = this.pos;
        const len = await this.u64(`length of ${what}`);
        if (len > BigInt(this.remaining)) {
            this.fail(
                `absurd string length ${len} for ${what}: only ${this.remaining} bytes remain in the file ${TRUNC_HINT}`,
                lenPos,
            );
        }
        const n = Number(len);
        if (!this.has(n)) await this.need(n, what);
        const a = this.at();
        const s = textDecoder.decode(this.buf.subarray(a, a + n));
        this.pos += n;
        return s;
    }

    /** Reads a string if it lies wholly in the buffered window; otherwise consumes nothing. */
    strSync(): string | undefined {
        if (!this.has(8)) return undefined;
        const a = this.at();
        const n = this.buf.readUInt32LE(a);
        if (this.buf.readUInt32LE(a + 4) !== 0 || n > this.buf.length - a - 8) return undefined;
        const s = this.buf.toString('utf8', a + 8, a + 8 + n);
        this.pos += 8 + n;
        return s;
    }

    /** Reads `count` fixed-size scalars into out[0..count), decoding whole buffered windows at once. */
    async scalarArray(
        type: GgufScalarType,
        size: number,
        count: number,
        out: GgufScalar[],
        what: string,
    ): Promise<void> {
        let i = 0;
        while (i < count) {
            if (!this.has(size)) await this.need(size, what);
            const a = this.at();
            const n = Math.min(count - i, Math.floor((this.buf.length - a) / size));
            const b = this.buf;
            for (let k = 0; k < n; k++) {
                const o = a + k * size;
                let v: GgufScalar;
                switch (type) {
                    case GgufType.UINT8:
                        v = b.readUInt8(o);
                        break;
                    case GgufType.INT8:
                        v = b.readInt8(o);
                        break;
                    case GgufType.UINT16:
                        v = b.readUInt16LE(o);
                        break;
                    case GgufType.INT16:
                        v = b.readInt16LE(o);
                        break;
                    case GgufType.UINT32:
                        v = b.readUInt32LE(o);
                        break;
                    case GgufType.INT32:
                        v = b.readInt32LE(o);
                        break;
                    case GgufType.FLOAT32:
                        v = b.readFloatLE(o);
                        break;
                    case GgufType.UINT64:
                        v = b.readBigUInt64LE(o);
                        break;
                    case GgufType.INT64:
                        v = b.readBigInt64LE(o);
                        break;
                    case GgufType.FLOAT64:
                        v = b.readDoubleLE(o);
                        break;
                    case GgufType.BOOL: {
                        const x = b.readUInt8(o);
                        if (x > 1) this.fail(`invalid bool value ${x} for ${what}`, this.pos + k);
                        v = x === 1;
                        break;
                    }
                    default:
                        throw new Error(`not a fixed-size type: ${type}`);
                }
                out[i + k] = v;
            }
            i += n;
            this.pos += n * size;
        }
    }

    /** Skips a string lying wholly in the buffered window; returns false (consuming nothing) otherwise. */
    skipStrSync(): boolean {
        if (!this.has(8)) return false;
        const a = this.at();
        const n = this.buf.readUInt32LE(a);
        if (this.buf.readUInt32LE(a + 4) !== 0 || n > this.buf.length - a - 8) return false;
        this.pos += 8 + n;
        return true;
    }

    /** Skips a string (validated like str()). */
    async skipStr(what: string): Promise<void> {
        const lenPos = this.pos;
        const len = await this.u64(`length of ${what}`);
        if (len > BigInt(this.remaining)) {
            this.fail(
                `absurd string length ${len} for ${what}: only ${this.remaining} bytes remain in the file ${TRUNC_HINT}`,
                lenPos,
            );
        }
        this.pos += Number(len);
    }

    skip(n: number, what: string): void {
        if (this.pos + n > this.src.size) {
            this.fail(`file is truncated: ${what} needs ${n} bytes but only ${this.remaining} remain`);
        }
        this.pos += n;
    }
}

async function readScalar(c: Cursor, type: GgufScalarType, what: string): Promise<GgufScalar> {
    switch (type) {
        case GgufType.UINT8:
            return c.u8(what);
        case GgufType.INT8:
            return c.i8(what);
        case GgufType.UINT16:
            return c.u16(what);
        case GgufType.INT16:
            return c.i16(what);
        case GgufType.UINT32:
            return c.u32(what);
        case GgufType.INT32:
            return c.i32(what);
        case GgufType.FLOAT32:
            return c.f32(what);
        case GgufType.BOOL: {
            const p = c.pos;
            const b = await c.u8(what);
            if (b > 1) c.fail(`invalid bool value ${b} for ${what}`, p);
            return b === 1;
        }
        case GgufType.STRING:
            return c.str(what);
        case GgufType.UINT64:
            return c.u64(what);
        case GgufType.INT64:
            return c.i64(what);
        case GgufType.FLOAT64:
            return c.f64(what);
    }
}

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
        const value = await readScalar(c, type, `value of key '${key}'`);
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
    const what = `element of array '${key}'`;
    if (et === GgufType.STRING) {
        // fast path: strings inside the buffered window are decoded without awaiting
        for (let i = 0; i < keep; i++) values[i] = c.strSync() ?? (await c.str(what));
    } else {
        await c.scalarArray(et, elemSize, keep, values, what);
    }
    if (keep < n) {
        if (et === GgufType.STRING) {
            for (let i = keep; i < n; i++) if (!c.skipStrSync()) await c.skipStr(what);
        } else {
            c.skip((n - keep) * elemSize, `array '${key}'`);
        }
    }
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
