// Human-oriented summary of a GGUF file: metadata (long arrays summarised) and a tensor table.
// Backs the `llavaguard gguf inspect FILE` command.

import { readGgufFile, type ReadGgufOptions } from './reader.js';
import { ggufTypeName, type GgufHeader, type GgufMetadataValue, type GgufScalar } from './types.js';

export interface InspectOptions {
    /** Arrays longer than this are summarised. Default 16. */
    maxArrayItems?: number;
    /** How many leading items a summarised array shows. Default 5. */
    previewItems?: number;
    /** Strings longer than this are cut (with their full length noted). Default 200. */
    maxStringLength?: number;
}

export interface InspectedArray {
    array: true;
    elemType: string;
    length: number;
    /** all items when short, the first few when summarised */
    items: Array<string | number | boolean>;
    /** e.g. "[array of 512 string]" when summarised */
    summary?: string;
}

export type InspectedValue = string | number | boolean | InspectedArray;

export interface InspectedTensor {
    name: string;
    type: string;
    dims: number[];
    bytes: number;
    offset: number;
}

export interface GgufInspection {
    path: string;
    version: number;
    fileSize: number;
    alignment: number;
    dataOffset: number;
    metadata: Record<string, { type: string; value: InspectedValue }>;
    tensors: InspectedTensor[];
    tensorBytes: number;
    parameterCount: number;
}

/** Shortest decimal that reads back as the same float32 (1e-5, not 0.000009999999747378752). */
export function shortestF32(x: number): number {
    if (!Number.isFinite(x) || x === 0) return x;
    for (let p = 1; p <= 9; p++) {
        const y = Number(x.toPrecision(p));
        if (Math.fround(y) === x) return y;
    }
    return x;
}

function plain(v: GgufScalar, maxStr: number, f32 = false): string | number | boolean {
    if (f32 && typeof v === 'number') return shortestF32(v);
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (typeof v === 'string' && v.length > maxStr) return `${v.slice(0, maxStr)}… (${v.length} chars)`;
    return v;
}

function inspectValue(v: GgufMetadataValue, o: Required<InspectOptions>): { type: string; value: InspectedValue } {
    if (v.type !== 9) return { type: ggufTypeName(v.type), value: plain(v.value, o.maxStringLength, v.type === 6) };
    const elemType = ggufTypeName(v.elemType).toLowerCase();
    const long = v.length > o.maxArrayItems;
    const items = (long ? v.value.slice(0, o.previewItems) : v.value).map((x) =>
        plain(x, o.maxStringLength, v.elemType === 6),
    );
    const out: InspectedArray = { array: true, elemType, length: v.length, items };
    if (long) out.summary = `[array of ${v.length} ${elemType}]`;
    return { type: `ARRAY[${ggufTypeName(v.elemType)}]`, value: out };
}

/** Summarises a parsed header (see inspectGguf). */
export function inspectHeader(filePath: string, h: GgufHeader, opts: InspectOptions = {}): GgufInspection {
    const o: Required<InspectOptions> = {
        maxArrayItems: opts.maxArrayItems ?? 16,
        previewItems: opts.previewItems ?? 5,
        maxStringLength: opts.maxStringLength ?? 200,
    };
    const metadata: GgufInspection['metadata'] = {};
    for (const [k, v] of h.metadata) metadata[k] = inspectValue(v, o);
    const tensors = h.tensors.map((t) => ({
        name: t.name,
        type: t.typeName,
        dims: t.dims,
        bytes: t.nbytes,
        offset: t.offset,
    }));
    return {
        path: filePath,
        version: h.version,
        fileSize: h.fileSize,
        alignment: h.alignment,
        dataOffset: h.dataOffset,
        metadata,
        tensors,
        tensorBytes: tensors.reduce((a, t) => a + t.bytes, 0),
        parameterCount: tensors.reduce((a, t) => a + t.dims.reduce((x, y) => x * y, 1), 0),
    };
}

/** Reads a GGUF header and returns a JSON-friendly summary. */
export async function inspectGguf(filePath: string, opts: InspectOptions = {}): Promise<GgufInspection> {
    // keep only what will be shown of each array; everything is still validated
    const readOpts: ReadGgufOptions = {
        maxArrayValues: Math.max(opts.maxArrayItems ?? 16, opts.previewItems ?? 5) + 1,
    };
    const h = await readGgufFile(filePath, readOpts);
    return inspectHeader(filePath, h, opts);
}

function fmtBytes(n: number): string {
    if (n < 1024) return `${n} B`;
    const u = ['KiB', 'MiB', 'GiB', 'TiB'];
    let v = n / 1024;
    let i = 0;
    while (v >= 1024 && i < u.length - 1) {
        v /= 1024;
        i++;
    }
    return `${v.toFixed(v < 10 ? 2 : 1)} ${u[i]}`;
}

function fmtScalar(v: string | number | boolean): string {
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function fmtValue(v: InspectedValue): string {
    if (typeof v !== 'object') return fmtScalar(v);
    const items = v.items.map(fmtScalar).join(', ');
    if (v.summary) return `${v.summary} ${items}${v.length > v.items.length ? ', …' : ''}`;
    return `[${items}]`;
}

/** Multi-line text: file summary, metadata list and tensor table (name, type, dims, bytes). */
export function formatInspect(info: GgufInspection): string {
    const lines: string[] = [];
    lines.push(`file:       ${info.path}`);
    lines.push(`size:       ${fmtBytes(info.fileSize)} (${info.fileSize} bytes)`);
    lines.push(`GGUF:       version ${info.version}, alignment ${info.alignment}, data at ${info.dataOffset}`);
    lines.push(`tensors:    ${info.tensors.length} (${fmtBytes(info.tensorBytes)}, ${info.parameterCount} parameters)`);
    lines.push('');
    const keys = Object.keys(info.metadata);
    lines.push(`metadata (${keys.length} keys):`);
    const kw = Math.max(0, ...keys.map((k) => k.length));
    for (const k of keys) {
        const m = info.metadata[k];
        lines.push(`  ${k.padEnd(kw)}  ${fmtValue(m.value).replace(/\n/g, '\\n')}  (${m.type.toLowerCase()})`);
    }
    lines.push('');
    lines.push('tensors:');
    const rows = info.tensors.map((t) => [t.name, t.type, `[${t.dims.join(', ')}]`, String(t.bytes)]);
    const head = ['name', 'type', 'dims', 'bytes'];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) =>
        `  ${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padEnd(w[2])}  ${r[3].padStart(w[3])}`;
    lines.push(fmt(head));
    for (const r of rows) lines.push(fmt(r));
    return lines.join('\n');
}
