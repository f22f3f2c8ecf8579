// A synthetic GGUF file as a plan: every metadata key and every tensor (name, ggml dims, type, how to fill it),
// without data. The plan's header is a GgufWriter's; the data is generated and streamed a few million values at
// a time, so memory stays bounded (tens of MB) whatever the model's size. Same plan and seed => the same bytes.

import { GgufMetadataBuilder } from '../metadata.js';
import { GgufType, ggmlTensorBytes, ggmlTypeName, type GgufScalar, type GgufScalarType } from '../types.js';
import { GgufWriter, encodeTensor, writeFileAtomic, writeFully } from '../writer.js';
import { fillUniform, makeRng } from './rng.js';

export interface PlannedKV {
    key: string;
    type: GgufType;
    /** for arrays */
    elemType?: GgufScalarType;
    value: GgufScalar | GgufScalar[];
}

/** Values are uniform with this standard deviation around `mean`; std 0 = all `mean`. */
export interface TensorInit {
    std: number;
    mean: number;
}

export interface PlannedTensor {
    name: string;
    /** ggml order: dims[0] is the row length */
    dims: number[];
    type: number;
    typeName: string;
    nElements: number;
    nbytes: number;
    init: TensorInit;
}

export interface GgufFilePlan {
    what: 'model' | 'mmproj';
    metadata: PlannedKV[];
    tensors: PlannedTensor[];
}

/** Collects a file's plan through the same metadata adders a GgufWriter has. */
export class PlanBuilder extends GgufMetadataBuilder {
    readonly metadata: PlannedKV[] = [];
    readonly tensors: PlannedTensor[] = [];
    constructor(readonly what: 'model' | 'mmproj') {
        super();
    }

    addKV(key: string, type: GgufScalarType, value: GgufScalar): this;
    addKV(key: string, type: typeof GgufType.ARRAY, value: GgufScalar[], elemType: GgufScalarType): this;
    addKV(key: string, type: GgufType, value: GgufScalar | GgufScalar[], elemType?: GgufScalarType): this {
        this.metadata.push(type === GgufType.ARRAY ? { key, type, elemType, value } : { key, type, value });
        return this;
    }

    tensor(name: string, dims: number[], type: number, std: number, mean = 0): void {
        this.tensors.push({
            name,
            dims,
            type,
            typeName: ggmlTypeName(type),
            nElements: dims.reduce((a, b) => a * b, 1),
            nbytes: ggmlTensorBytes(dims, type),
            init: { std, mean },
        });
    }

    plan(): GgufFilePlan {
        return { what: this.what, metadata: this.metadata, tensors: this.tensors };
    }
}

export function planParameterCount(plan: GgufFilePlan): number {
    return plan.tensors.reduce((n, t) => n + t.nElements, 0);
}

function toWriter(plan: GgufFilePlan): GgufWriter {
    const w = new GgufWriter();
    for (const kv of plan.metadata) {
        if (kv.type === GgufType.ARRAY) w.addKV(kv.key, GgufType.ARRAY, kv.value as GgufScalar[], kv.elemType!);
        else w.addKV(kv.key, kv.type as GgufScalarType, kv.value as GgufScalar);
    }
    for (const t of plan.tensors) {
        w.addTensor(t.name, t.dims, t.type, () => {
            throw new Error('planned tensors are streamed, not materialised');
        });
    }
    return w;
}

/** The file's header (magic .. padding before the data section) for a plan. */
export async function planHeader(plan: GgufFilePlan): Promise<Uint8Array> {
    const it = toWriter(plan).chunks();
    const first = await it.next();
    await it.return(undefined);
    return first.value as Uint8Array;
}

const dataBytes = (plan: GgufFilePlan) => plan.tensors.reduce((n, t) => n + Math.ceil(t.nbytes / 32) * 32, 0);

/** Bytes of the file a plan describes. */
export async function planFileSize(plan: GgufFilePlan): Promise<number> {
    return (await planHeader(plan)).byteLength + dataBytes(plan);
}

/** About this many values are generated and encoded at a time. */
const CHUNK_VALUES = 1 << 22;

export interface ShapedProgress {
    file: 'model' | 'mmproj';
    tensor: string;
    bytesWritten: number;
    totalBytes: number;
}

/**
 * Streams one planned file to `file` (through `file.tmp`, see writeFileAtomic). Each tensor's values come from its own
 * deterministic stream (makeRng(seed, name)), generated whole rows at a time.
 */
export async function writePlannedFile(
    plan: GgufFilePlan,
    file: string,
    seed: number,
    onProgress?: (p: ShapedProgress) => void,
): Promise<number> {
    const header = await planHeader(plan);
    const totalBytes = header.byteLength + dataBytes(plan);
    return writeFileAtomic(file, async (fh) => {
        await writeFully(fh, header);
        let written = header.byteLength;
        const values = new Float32Array(CHUNK_VALUES + 4096);
        for (const t of plan.tensors) {
            const rowLen = t.dims[0]!;
            // whole rows: a Q8_0 block never straddles two chunks
            const perChunk = Math.max(rowLen, Math.floor(CHUNK_VALUES / rowLen) * rowLen);
            const rng = makeRng(seed, t.name);
            let tensorBytes = 0;
            for (let done = 0; done < t.nElements; done += perChunk) {
                const n = Math.min(perChunk, t.nElements - done);
                const buf = n <= values.length ? values.subarray(0, n) : new Float32Array(n);
                const bytes = encodeTensor(fillUniform(rng, buf, t.init.std, t.init.mean), t.type);
                await writeFully(fh, bytes);
                tensorBytes += bytes.byteLength;
            }
            if (tensorBytes !== t.nbytes)
                throw new Error(`tensor ${t.name}: wrote ${tensorBytes} bytes, expected ${t.nbytes}`);
            const padding = Math.ceil(t.nbytes / 32) * 32 - t.nbytes;
            if (padding) await writeFully(fh, new Uint8Array(padding));
            written += Math.ceil(t.nbytes / 32) * 32;
            onProgress?.({ file: plan.what, tensor: t.name, bytesWritten: written, totalBytes });
        }
        if (written !== totalBytes) throw new Error(`wrote ${written} bytes, expected ${totalBytes}`);
        return written;
    });
}
