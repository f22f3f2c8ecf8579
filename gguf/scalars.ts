// Each fixed-size GGUF value type read from and written to a little-endian buffer: one table for the reader
// and the writer. BOOL is one byte, 0 or 1 (the reader rejects anything else).

import { GgufType, type GgufScalar, type GgufScalarType } from './types.js';

export type FixedGgufType = Exclude<GgufScalarType, typeof GgufType.STRING>;

export interface ScalarCodec {
    readonly size: number;
    read(b: Buffer, offset: number): GgufScalar;
    write(b: Buffer, value: GgufScalar, offset: number): unknown;
}

const num = (v: GgufScalar) => v as number;
const big = (v: GgufScalar) => BigInt(v as bigint | number);

const CODECS: Readonly<Record<FixedGgufType, ScalarCodec>> = {
    [GgufType.UINT8]: { size: 1, read: (b, o) => b.readUInt8(o), write: (b, v, o) => b.writeUInt8(num(v), o) },
    [GgufType.INT8]: { size: 1, read: (b, o) => b.readInt8(o), write: (b, v, o) => b.writeInt8(num(v), o) },
    [GgufType.BOOL]: { size: 1, read: (b, o) => b.readUInt8(o) === 1, write: (b, v, o) => b.writeUInt8(v ? 1 : 0, o) },
    [GgufType.UINT16]: { size: 2, read: (b, o) => b.readUInt16LE(o), write: (b, v, o) => b.writeUInt16LE(num(v), o) },
    [GgufType.INT16]: { size: 2, read: (b, o) => b.readInt16LE(o), write: (b, v, o) => b.writeInt16LE(num(v), o) },
    [GgufType.UINT32]: { size: 4, read: (b, o) => b.readUInt32LE(o), write: (b, v, o) => b.writeUInt32LE(num(v), o) },
    [GgufType.INT32]: { size: 4, read: (b, o) => b.readInt32LE(o), write: (b, v, o) => b.writeInt32LE(num(v), o) },
    [GgufType.FLOAT32]: { size: 4, read: (b, o) => b.readFloatLE(o), write: (b, v, o) => b.writeFloatLE(num(v), o) },
    [GgufType.UINT64]: {
        size: 8,
        read: (b, o) => b.readBigUInt64LE(o),
        write: (b, v, o) => b.writeBigUInt64LE(big(v), o),
    },
    [GgufType.INT64]: {
        size: 8,
        read: (b, o) => b.readBigInt64LE(o),
        write: (b, v, o) => b.writeBigInt64LE(big(v), o),
    },
    [GgufType.FLOAT64]: { size: 8, read: (b, o) => b.readDoubleLE(o), write: (b, v, o) => b.writeDoubleLE(num(v), o) },
};

/** The codec of a fixed-size type; throws for STRING and ARRAY, which have no fixed size. */
export function scalarCodec(type: number): ScalarCodec {
    const c = CODECS[type as FixedGgufType];
    if (!c) throw new Error(`not a fixed-size type: ${type}`);
    return c;
}
