// Streaming safetensors reader: parses the JSON headers of a model folder (one model.safetensors or
// the shards that model.safetensors.index.json names) and reads one tensor at a time with
// positioned reads, decoding F32 / F16 / BF16 into a Float32Array.
//
// Format: u64 LE header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {...}}, then the data; offsets are relative to the byte after the header.

import { promises as fsp } from 'node:fs';
import path from 'node:path';

import { f16ToF32 } from '../encode.js';

export class ConvertError extends Error {
    override name = 'ConvertError';
}

const DTYPE_SIZE: Record<string, number> = {
    F64: 8,
    F32: 4,
    F16: 2,
    BF16: 2,
    I64: 8,
    I32: 4,
    I16: 2,
    I8: 1,
    U8: 1,
    BOOL: 1,
    F8_E4M3: 1,
    F8_E5M2: 1,
    U16: 2,
    U32: 4,
    U64: 8,
};

export interface SafetensorsTensor {
    name: string;
    dtype: string;
    /** PyTorch order (outermost first) */
    shape: number[];
    file: string;
    /** absolute byte offset in the file */
    offset: number;
    nbytes: number;
}

/** Largest header we accept (the format's own reference implementation caps it at 100 MB). */
const MAX_HEADER = 100_000_000;

async function readHeader(file: string): Promise<SafetensorsTensor[]> {
    let fh: fsp.FileHandle;
    try {
        fh = await fsp.open(file, 'r');
    } catch (error) {
        throw new ConvertError(`cannot open ${file}: ${(error as Error).message}`);
    }
    try {
        const { size } = await fh.stat();
        const lenBuf = Buffer.alloc(8);
        if (size < 8 || (await fh.read(lenBuf, 0, 8, 0)).bytesRead !== 8) {
            throw new ConvertError(`${file}: not a safetensors file (shorter than 8 bytes)`);
        }
        const n = lenBuf.readBigUInt64LE(0);
        if (n > BigInt(MAX_HEADER) || Number(n) + 8 > size) {
            throw new ConvertError(`${file}: bad safetensors header length ${n} (file is ${size} bytes)`);
        }
        const hdr = Buffer.alloc(Number(n));
        await fh.read(hdr, 0, hdr.length, 8);
        let json: Record<string, unknown>;
        try {
            json = JSON.parse(hdr.toString('utf8')) as Record<string, unknown>;
        } catch (error) {
            throw new ConvertError(`${file}: safetensors header is not JSON (${(error as Error).message})`);
        }
        const base = 8 + Number(n);
        const out: SafetensorsTensor[] = [];
        for (const [name, v] of Object.entries(json)) {
            if (name === '__metadata__') continue;
            const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
            const dtype = String(e?.dtype);
            const shape = e?.shape;
            const offs = e?.data_offsets;
            if (
                !(dtype in DTYPE_SIZE) ||
                !Array.isArray(shape) ||
                !shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
                !Array.isArray(offs) ||
                offs.length !== 2 ||
                !offs.every((d) => Number.isSafeInteger(d) && d >= 0)
            ) {
                throw new ConvertError(`${file}: bad header entry for tensor '${name}'`);
            }
            const [b, en] = offs as [number, number];
            const count = (shape as number[]).reduce((a, c) => a * c, 1);
            if (en - b !== count * DTYPE_SIZE[dtype]! || base + en > size) {
                throw new ConvertError(
                    `${file}: tensor '${name}' ${dtype}[${shape.join(', ')}] has data_offsets [${b}, ${en}] that do not fit`,
                );
            }
            out.push({ name, dtype, shape: shape as number[], file, offset: base + b, nbytes: en - b });
        }
        return out;
    } finally {
        await fh.close();
    }
}

let f16Table: Float32Array | undefined;

/** F32 / F16 / BF16 little-endian bytes -> float32 values (exact). */
export function decodeToF32(raw: Uint8Array, dtype: string): Float32Array {
    // copy into a fresh, aligned buffer, then reinterpret (the host is little-endian, as ggml assumes)
    const aligned = new Uint8Array(raw.byteLength);
    aligned.set(raw);
    switch (dtype) {
        case 'F32':
            return new Float32Array(aligned.buffer);
        case 'BF16': {
            const src = new Uint16Array(aligned.buffer);
            const out = new Uint32Array(src.length);
            for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16;
            return new Float32Array(out.buffer);
        }
        case 'F16': {
            if (!f16Table) {
                f16Table = new Float32Array(65536);
                for (let h = 0; h < 65536; h++) f16Table[h] = f16ToF32(h);
            }
            const tbl = f16Table;
            const src = new Uint16Array(aligned.buffer);
            const out = new Float32Array(src.length);
            for (let i = 0; i < src.length; i++) out[i] = tbl[src[i]!]!;
            return out;
        }
        default:
            throw new ConvertError(`dtype ${dtype} is not supported (F32, F16, BF16 are)`);
    }
}

/** The tensors of a Hugging Face model folder, read lazily. */
export class SafetensorsModel {
    readonly tensors: Map<string, SafetensorsTensor>;
    private readonly handles = new Map<string, Promise<fsp.FileHandle>>();

    private constructor(tensors: Map<string, SafetensorsTensor>) {
        this.tensors = tensors;
    }

    /** Opens `dir/model.safetensors.index.json` (shards) or `dir/model.safetensors` (or a single *.safetensors). */
    static async open(dir: string): Promise<SafetensorsModel> {
        const index = path.join(dir, 'model.safetensors.index.json');
        let files: string[];
        let weightMap: Record<string, string> | undefined;
        try {
            const j = JSON.parse(await fsp.readFile(index, 'utf8')) as { weight_map?: Record<string, string> };
            if (!j.weight_map || typeof j.weight_map !== 'object') throw new ConvertError(`${index}: no weight_map`);
            weightMap = j.weight_map;
            files = [...new Set(Object.values(weightMap))].map((f) => path.join(dir, f));
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
            const entries = (await fsp.readdir(dir)).filter((f) => f.endsWith('.safetensors')).sort();
            if (entries.length === 0)
                throw new ConvertError(`${dir}: no model.safetensors or model.safetensors.index.json`);
            if (entries.length > 1 && !entries.includes('model.safetensors')) {
                throw new ConvertError(
                    `${dir}: several .safetensors files (${entries.join(', ')}) but no model.safetensors.index.json`,
                );
            }
            files = [path.join(dir, entries.includes('model.safetensors') ? 'model.safetensors' : entries[0]!)];
        }
        const tensors = new Map<string, SafetensorsTensor>();
        for (const f of files) {
            for (const t of await readHeader(f)) {
                if (tensors.has(t.name))
                    throw new ConvertError(
                        `tensor '${t.name}' appears in two files (${tensors.get(t.name)!.file}, ${f})`,
                    );
                if (weightMap && weightMap[t.name] !== undefined && path.join(dir, weightMap[t.name]!) !== f) {
                    throw new ConvertError(`tensor '${t.name}' is in ${f} but the index says ${weightMap[t.name]}`);
                }
                tensors.set(t.name, t);
            }
        }
        if (weightMap) {
            for (const name of Object.keys(weightMap)) {
                if (!tensors.has(name))
                    throw new ConvertError(`tensor '${name}' is in the index but in no shard (${weightMap[name]})`);
            }
        }
        return new SafetensorsModel(tensors);
    }

    get(name: string): SafetensorsTensor | undefined {
        return this.tensors.get(name);
    }

    private handle(file: string): Promise<fsp.FileHandle> {
        let h = this.handles.get(file);
        if (!h) {
            h = fsp.open(file, 'r');
            this.handles.set(file, h);
        }
        return h;
    }

    /** The tensor's raw bytes (positioned read). */
    async readRaw(name: string): Promise<Buffer> {
        const t = this.tensors.get(name);
        if (!t) throw new ConvertError(`missing tensor '${name}'`);
        const fh = await this.handle(t.file);
        const buf = Buffer.allocUnsafe(t.nbytes);
        let off = 0;
        while (off < t.nbytes) {
            const { bytesRead } = await fh.read(buf, off, t.nbytes - off, t.offset + off);
            if (bytesRead === 0) throw new ConvertError(`${t.file}: unexpected end of file in tensor '${name}'`);
            off += bytesRead;
        }
        return buf;
    }

    /** The tensor as float32 values (F32, F16 and BF16 sources). */
    async readF32(name: string): Promise<Float32Array> {
        const t = this.tensors.get(name);
        if (!t) throw new ConvertError(`missing tensor '${name}'`);
        if (!['F32', 'F16', 'BF16'].includes(t.dtype)) {
            throw new ConvertError(`tensor '${name}': dtype ${t.dtype} is not supported (F32, F16, BF16 are)`);
        }
        return decodeToF32(await this.readRaw(name), t.dtype);
    }

    async close(): Promise<void> {
        const hs = [...this.handles.values()];
        this.handles.clear();
        for (const h of hs) await (await h).close().catch(() => undefined);
    }
}
