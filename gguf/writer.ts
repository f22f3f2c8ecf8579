// Streaming GGUF v3 writer. Metadata and tensor infos are collected in memory; write() streams the
// header and then each tensor's data (encoded on demand) into `<path>.tmp`, fsyncs and renames it
// over `path`, so a reader never sees a half-written file under the final name.

import { promises as fsp } from 'node:fs';

import { encodeBF16, encodeF16, encodeF32, quantizeQ8_0 } from './encode.js';
import { GgufMetadataBuilder } from './metadata.js';
import { scalarCodec } from './scalars.js';
import {
    GGML_MAX_DIMS,
    GGML_MAX_NAME,
    GGUF_DEFAULT_ALIGNMENT,
    GGUF_MAGIC,
    GGUF_VERSION,
    GgmlType,
    GgufType,
    ggmlTensorBytes,
    ggmlTypeName,
    ggmlTypeTraits,
    ggufTypeName,
    isGgufType,
    type GgufScalar,
    type GgufScalarType,
} from './types.js';

/** Raw bytes already in the tensor's ggml type, or float32 values to encode into it. */
export type TensorData = Float32Array | Uint8Array;
export type TensorDataSource = TensorData | (() => TensorData | Promise<TensorData>);

interface PendingKV {
    key: string;
    type: number;
    elemType?: GgufScalarType;
    value: GgufScalar | GgufScalar[];
}

interface PendingTensor {
    name: string;
    dims: number[];
    type: number;
    nbytes: number;
    offset: number;
    data: TensorDataSource;
}

const INT_RANGES: Partial<Record<number, [number, number]>> = {
    [GgufType.UINT8]: [0, 0xff],
    [GgufType.INT8]: [-0x80, 0x7f],
    [GgufType.UINT16]: [0, 0xffff],
    [GgufType.INT16]: [-0x8000, 0x7fff],
    [GgufType.UINT32]: [0, 0xffffffff],
    [GgufType.INT32]: [-0x80000000, 0x7fffffff],
};

function checkScalar(key: string, type: number, v: unknown): GgufScalar {
    const range = INT_RANGES[type];
    if (range) {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) {
            throw new TypeError(`key '${key}': ${String(v)} is not a valid ${ggufTypeName(type)}`);
        }
        return v;
    }
    switch (type) {
        case GgufType.FLOAT32:
        case GgufType.FLOAT64:
            if (typeof v !== 'number') throw new TypeError(`key '${key}': ${String(v)} is not a number`);
            return v;
        case GgufType.BOOL:
            if (typeof v !== 'boolean') throw new TypeError(`key '${key}': ${String(v)} is not a boolean`);
            return v;
        case GgufType.STRING:
            if (typeof v !== 'string') throw new TypeError(`key '${key}': ${String(v)} is not a string`);
            return v;
        case GgufType.UINT64:
        case GgufType.INT64: {
            const b = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined;
            const [lo, hi] = type === GgufType.UINT64 ? [0n, (1n << 64n) - 1n] : [-(1n << 63n), (1n << 63n) - 1n];
            if (b === undefined || b < lo || b > hi) {
                throw new TypeError(`key '${key}': ${String(v)} is not a valid ${ggufTypeName(type)}`);
            }
            return b;
        }
        default:
            throw new TypeError(`key '${key}': unsupported value type ${type}`);
    }
}

/** Growable little-endian byte buffer for the header. */
class ByteSink {
    private buf = Buffer.alloc(1 << 16);
    length = 0;
    private reserve(n: number): void {
        if (this.length + n <= this.buf.length) return;
        let cap = this.buf.length * 2;
        while (cap < this.length + n) cap *= 2;
        const nb = Buffer.alloc(cap);
        this.buf.copy(nb, 0, 0, this.length);
        this.buf = nb;
    }
    /** One metadata value of any scalar type (a string: its u64 length, then its UTF-8 bytes). */
    scalar(type: GgufScalarType, v: GgufScalar): void {
        if (type === GgufType.STRING) {
            const s = v as string;
            const n = Buffer.byteLength(s);
            this.scalar(GgufType.UINT64, n);
            this.reserve(n);
            this.buf.write(s, this.length, 'utf8');
            this.length += n;
            return;
        }
        const codec = scalarCodec(type);
        this.reserve(codec.size);
        codec.write(this.buf, v, this.length);
        this.length += codec.size;
    }
    u32 = (v: number) => this.scalar(GgufType.UINT32, v);
    i32 = (v: number) => this.scalar(GgufType.INT32, v);
    u64 = (v: number) => this.scalar(GgufType.UINT64, v);
    i64 = (v: number) => this.scalar(GgufType.INT64, v);
    str = (v: string) => this.scalar(GgufType.STRING, v);
    zeros(n: number) {
        this.reserve(n);
        this.buf.fill(0, this.length, this.length + n);
        this.length += n;
    }
    bytes(): Buffer {
        return this.buf.subarray(0, this.length);
    }
}

/** Encodes float32 values into a ggml type (F32, F16, BF16, Q8_0). */
export function encodeTensor(values: Float32Array | ArrayLike<number>, type: number): Uint8Array {
    switch (type) {
        case GgmlType.F32:
            return encodeF32(values);
        case GgmlType.F16:
            return encodeF16(values);
        case GgmlType.BF16:
            return encodeBF16(values);
        case GgmlType.Q8_0:
            return quantizeQ8_0(values);
        default:
            throw new TypeError(`no encoder for ggml type ${ggmlTypeName(type)}: pass pre-encoded bytes (Uint8Array)`);
    }
}

function pad(n: number, a: number): number {
    return Math.ceil(n / a) * a;
}

export interface GgufWriterOptions {
    /** Tensor data alignment; written as general.alignment when not 32. Default 32. */
    alignment?: number;
}

export class GgufWriter extends GgufMetadataBuilder {
    private readonly kvs = new Map<string, PendingKV>();
    private readonly tensors: PendingTensor[] = [];
    private alignment: number;
    private dataSize = 0;

    constructor(opts: GgufWriterOptions = {}) {
        super();
        const a = opts.alignment ?? GGUF_DEFAULT_ALIGNMENT;
        this.setAlignment(a);
        this.alignment = a;
        if (a !== GGUF_DEFAULT_ALIGNMENT) this.addU32('general.alignment', a);
    }

    private setAlignment(a: number): void {
        if (!Number.isInteger(a) || a <= 0 || (a & (a - 1)) !== 0 || a > 0x80000000) {
            throw new RangeError(`alignment ${a} is not a power of 2`);
        }
        if (this.tensors.length > 0) {
            throw new Error('general.alignment must be set before the first tensor is added');
        }
        this.alignment = a;
    }

    /** Adds a scalar metadata value (for arrays use addArray). Keys must be unique. */
    addKV(key: string, type: GgufScalarType, value: GgufScalar): this;
    addKV(key: string, type: typeof GgufType.ARRAY, value: GgufScalar[], elemType: GgufScalarType): this;
    addKV(key: string, type: number, value: GgufScalar | GgufScalar[], elemType?: GgufScalarType): this {
        if (typeof key !== 'string' || key.length === 0) throw new TypeError('metadata key must be a non-empty string');
        if (this.kvs.has(key)) throw new Error(`duplicate metadata key '${key}'`);
        if (!isGgufType(type)) throw new TypeError(`key '${key}': unknown value type ${type}`);
        if (type === GgufType.ARRAY) {
            if (elemType === undefined || !isGgufType(elemType) || (elemType as number) === GgufType.ARRAY) {
                throw new TypeError(`key '${key}': arrays need a scalar element type (nested arrays are not allowed)`);
            }
            if (!Array.isArray(value) && !ArrayBuffer.isView(value))
                throw new TypeError(`key '${key}': array value expected`);
            const vals = Array.from(value as ArrayLike<GgufScalar>, (v) => checkScalar(key, elemType, v));
            this.kvs.set(key, { key, type, elemType, value: vals });
            return this;
        }
        const v = checkScalar(key, type, value);
        if (key === 'general.alignment') {
            if (type !== GgufType.UINT32) throw new TypeError(`general.alignment must be UINT32`);
            this.setAlignment(v as number);
        }
        this.kvs.set(key, { key, type, value: v });
        return this;
    }

    /**
     * Adds a tensor. dims are in ggml order (dims[0] = row length). data is either raw bytes already
     * in `type` (their length must be exactly the tensor's size) or float32 values encoded at write
     * time (F32, F16, BF16, Q8_0), or a function returning either, called once during write().
     */
    addTensor(name: string, dims: readonly number[], type: number, data: TensorDataSource): this {
        if (Buffer.byteLength(name) >= GGML_MAX_NAME || name.length === 0) {
            throw new RangeError(`tensor name '${name}' must be 1..${GGML_MAX_NAME - 1} bytes`);
        }
        if (this.tensors.some((t) => t.name === name)) throw new Error(`duplicate tensor name '${name}'`);
        if (dims.length < 1 || dims.length > GGML_MAX_DIMS || dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
            throw new RangeError(`tensor '${name}': dims [${dims.join(', ')}] must be 1..4 non-negative integers`);
        }
        if (!ggmlTypeTraits(type)) throw new TypeError(`tensor '${name}': unknown ggml type ${type}`);
        const nbytes = ggmlTensorBytes(dims, type);
        const nElements = dims.reduce((a, b) => a * b, 1);
        if (typeof data !== 'function') checkData(name, data, type, nbytes, nElements);
        const offset = this.dataSize;
        this.tensors.push({ name, dims: [...dims], type, nbytes, offset, data });
        this.dataSize = offset + pad(nbytes, this.alignment);
        return this;
    }

    get tensorCount(): number {
        return this.tensors.length;
    }

    /** Serialises the header (magic through the padding before the data section). */
    private header(): Buffer {
        const s = new ByteSink();
        s.u32(GGUF_MAGIC);
        s.u32(GGUF_VERSION);
        s.i64(this.tensors.length);
        s.i64(this.kvs.size);
        for (const kv of this.kvs.values()) {
            s.str(kv.key);
            s.i32(kv.type);
            if (kv.type === GgufType.ARRAY) {
                const vals = kv.value as GgufScalar[];
                s.i32(kv.elemType!);
                s.u64(vals.length);
                for (const v of vals) s.scalar(kv.elemType!, v);
            } else {
                s.scalar(kv.type as GgufScalarType, kv.value as GgufScalar);
            }
        }
        for (const t of this.tensors) {
            s.str(t.name);
            s.u32(t.dims.length);
            for (const d of t.dims) s.i64(d);
            s.i32(t.type);
            s.u64(t.offset);
        }
        s.zeros(pad(s.length, this.alignment) - s.length);
        return s.bytes();
    }

    private async tensorBytes(t: PendingTensor): Promise<Uint8Array> {
        const data = typeof t.data === 'function' ? await t.data() : t.data;
        const nElements = t.dims.reduce((a, b) => a * b, 1);
        checkData(t.name, data, t.type, t.nbytes, nElements);
        return data instanceof Float32Array ? encodeTensor(data, t.type) : data;
    }

    /** Yields the file's bytes in order: header, then each tensor with its padding. */
    async *chunks(): AsyncGenerator<Uint8Array> {
        yield this.header();
        for (const t of this.tensors) {
            const b = await this.tensorBytes(t);
            yield b;
            const p = pad(t.nbytes, this.alignment) - t.nbytes;
            if (p) yield new Uint8Array(p);
        }
    }

    /** The whole file in memory (for tests and small files). */
    async toBuffer(): Promise<Buffer> {
        const parts: Uint8Array[] = [];
        for await (const c of this.chunks()) parts.push(c);
        return Buffer.concat(parts);
    }

    /** Writes the file to `path + '.tmp'`, then renames it to `path`. Returns the file size. */
    async write(path: string): Promise<number> {
        return writeFileAtomic(path, async (fh) => {
            let size = 0;
            for await (const c of this.chunks()) {
                await writeFully(fh, c);
                size += c.byteLength;
            }
            return size;
        });
    }
}

/**
 * Writes a file through `<path>.tmp` (`fill` writes it), fsyncs it and renames it over `path`, so a reader
 * never sees a half-written file under the final name; on failure the temporary file is removed.
 */
export async function writeFileAtomic<T>(path: string, fill: (fh: fsp.FileHandle) => Promise<T>): Promise<T> {
    const tmp = `${path}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    let result: T;
    try {
        result = await fill(fh);
        await fh.sync();
    } catch (error) {
        await fh.close();
        await fsp.rm(tmp, { force: true });
        throw error;
    }
    await fh.close();
    await fsp.rename(tmp, path);
    return result;
}

/** Writes all of `bytes` at the file's position (a write may take fewer bytes than asked). */
export async function writeFully(fh: fsp.FileHandle, bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.byteLength; )
        off += (await fh.write(bytes, off, bytes.byteLength - off)).bytesWritten;
}

function checkData(name: string, data: TensorData, type: number, nbytes: number, nElements: number): void {
    if (data instanceof Float32Array) {
        if (![GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0].includes(type as 0)) {
            throw new TypeError(`tensor '${name}': cannot encode float32 values as ${ggmlTypeName(type)}; pass bytes`);
        }
        if (data.length !== nElements) {
            throw new RangeError(`tensor '${name}': ${data.length} values given for ${nElements} elements`);
        }
    } else if (data instanceof Uint8Array) {
        if (data.byteLength !== nbytes) {
            throw new RangeError(
                `tensor '${name}': ${data.byteLength} bytes given, ${ggmlTypeName(type)} needs ${nbytes}`,
            );
        }
    } else {
        throw new TypeError(`tensor '${name}': data must be a Float32Array or Uint8Array`);
    }
}
