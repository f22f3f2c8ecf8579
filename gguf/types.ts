// GGUF value types, ggml tensor types and the TypeScript shapes of a parsed header.
// Codes and sizes follow ggml/include/gguf.h, ggml/include/ggml.h and gguf-py's constants.py.

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGML_MAX_DIMS = 4;
/** ggml's GGML_MAX_NAME: tensor names must be shorter than this (bytes). */
export const GGML_MAX_NAME = 64;

/** GGUF metadata value types (enum gguf_type). */
export const GgufType = {
    UINT8: 0,
    INT8: 1,
    UINT16: 2,
    INT16: 3,
    UINT32: 4,
    INT32: 5,
    FLOAT32: 6,
    BOOL: 7,
    STRING: 8,
    ARRAY: 9,
    UINT64: 10,
    INT64: 11,
    FLOAT64: 12,
} as const;
export type GgufType = (typeof GgufType)[keyof typeof GgufType];
export type GgufScalarType = Exclude<GgufType, typeof GgufType.ARRAY>;

const GGUF_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(GgufType).map(([k, v]) => [v, k]));

export function ggufTypeName(t: number): string {
    return GGUF_TYPE_NAMES[t] ?? `unknown(${t})`;
}

export function isGgufType(t: number): t is GgufType {
    return Number.isInteger(t) && t >= 0 && t <= 12;
}

/** Size in bytes of a fixed-size scalar value type; undefined for STRING and ARRAY. */
export function ggufScalarSize(t: number): number | undefined {
    switch (t) {
        case GgufType.UINT8:
        case GgufType.INT8:
        case GgufType.BOOL:
            return 1;
        case GgufType.UINT16:
        case GgufType.INT16:
            return 2;
        case GgufType.UINT32:
        case GgufType.INT32:
        case GgufType.FLOAT32:
            return 4;
        case GgufType.UINT64:
        case GgufType.INT64:
        case GgufType.FLOAT64:
            return 8;
        default:
            return undefined;
    }
}

/** ggml tensor data types (enum ggml_type). Gaps (4, 5, 31-33, 36-38) are removed types. */
export const GgmlType = {
    F32: 0,
    F16: 1,
    Q4_0: 2,
    Q4_1: 3,
    Q5_0: 6,
    Q5_1: 7,
    Q8_0: 8,
    Q8_1: 9,
    Q2_K: 10,
    Q3_K: 11,
    Q4_K: 12,
    Q5_K: 13,
    Q6_K: 14,
    Q8_K: 15,
    IQ2_XXS: 16,
    IQ2_XS: 17,
    IQ3_XXS: 18,
    IQ1_S: 19,
    IQ4_NL: 20,
    IQ3_S: 21,
    IQ2_S: 22,
    IQ4_XS: 23,
    I8: 24,
    I16: 25,
    I32: 26,
    I64: 27,
    F64: 28,
    IQ1_M: 29,
    BF16: 30,
    TQ1_0: 34,
    TQ2_0: 35,
    MXFP4: 39,
    NVFP4: 40,
    Q1_0: 41,
    Q2_0: 42,
} as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];
export type GgmlTypeName = keyof typeof GgmlType;

export interface GgmlTypeTraits {
    name: GgmlTypeName;
    /** elements per block */
    blockSize: number;
    /** bytes per block */
    typeSize: number;
}

const QK_K = 256;

const TRAITS: Array<[GgmlTypeName, number, number]> = [
    ['F32', 1, 4],
    ['F16', 1, 2],
    ['Q4_0', 32, 2 + 16],
    ['Q4_1', 32, 2 + 2 + 16],
    ['Q5_0', 32, 2 + 4 + 16],
    ['Q5_1', 32, 2 + 2 + 4 + 16],
    ['Q8_0', 32, 2 + 32],
    ['Q8_1', 32, 4 + 4 + 32],
    ['Q2_K', 256, 2 + 2 + QK_K / 16 + QK_K / 4],
    ['Q3_K', 256, 2 + QK_K / 4 + QK_K / 8 + 12],
    ['Q4_K', 256, 2 + 2 + QK_K / 2 + 12],
    ['Q5_K', 256, 2 + 2 + QK_K / 2 + QK_K / 8 + 12],
    ['Q6_K', 256, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16],
    ['Q8_K', 256, 4 + QK_K + QK_K / 8],
    ['IQ2_XXS', 256, 2 + QK_K / 4],
    ['IQ2_XS', 256, 2 + QK_K / 4 + QK_K / 32],
    ['IQ3_XXS', 256, 2 + QK_K / 4 + QK_K / 8],
    ['IQ1_S', 256, 2 + QK_K / 8 + QK_K / 16],
    ['IQ4_NL', 32, 2 + 16],
    ['IQ3_S', 256, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4],
    ['IQ2_S', 256, 2 + QK_K / 4 + QK_K / 16],
    ['IQ4_XS', 256, 2 + 2 + QK_K / 2 + QK_K / 64],
    ['I8', 1, 1],
    ['I16', 1, 2],
    ['I32', 1, 4],
    ['I64', 1, 8],
    ['F64', 1, 8],
    ['IQ1_M', 256, QK_K / 8 + QK_K / 16 + QK_K / 32],
    ['BF16', 1, 2],
    ['TQ1_0', 256, 2 + 4 * 13],
    ['TQ2_0', 256, 2 + 64],
    ['MXFP4', 32, 1 + 16],
    ['NVFP4', 64, 4 + 32],
    ['Q1_0', 128, 2 + 16],
    ['Q2_0', 64, 2 + 16],
];

const TRAITS_BY_CODE = new Map<number, GgmlTypeTraits>(
    TRAITS.map(([name, blockSize, typeSize]) => [GgmlType[name], { name, blockSize, typeSize }]),
);

/** Block/type size of a ggml type, or undefined for an unknown code. */
export function ggmlTypeTraits(t: number): GgmlTypeTraits | undefined {
    return TRAITS_BY_CODE.get(t);
}

export function ggmlTypeName(t: number): string {
    return TRAITS_BY_CODE.get(t)?.name ?? `unknown(${t})`;
}

/**
 * Bytes occupied by a tensor of the given ggml-order dims and type (ggml_nbytes for a contiguous
 * tensor). Throws if dims[0] is not a multiple of the type's block size or the type is unknown.
 */
export function ggmlTensorBytes(dims: readonly number[], type: number): number {
    const tr = ggmlTypeTraits(type);
    if (!tr) throw new RangeError(`unknown ggml type ${type}`);
    const ne0 = dims[0] ?? 1;
    if (ne0 % tr.blockSize !== 0) {
        throw new RangeError(`row of ${ne0} elements is not a multiple of the ${tr.name} block size ${tr.blockSize}`);
    }
    let rows = 1;
    for (let i = 1; i < dims.length; i++) rows *= dims[i];
    return (ne0 / tr.blockSize) * tr.typeSize * rows;
}

/** A metadata scalar as held in memory. 64-bit integers are bigint. */
export type GgufScalar = number | bigint | boolean | string;

export type GgufMetadataValue =
    | { type: Exclude<GgufScalarType, 10 | 11 | 7 | 8>; value: number }
    | { type: typeof GgufType.UINT64 | typeof GgufType.INT64; value: bigint }
    | { type: typeof GgufType.BOOL; value: boolean }
    | { type: typeof GgufType.STRING; value: string }
    | {
          type: typeof GgufType.ARRAY;
          elemType: GgufScalarType;
          value: GgufScalar[];
          /** Element count in the file (value may hold fewer when the reader was told to truncate). */
          length: number;
          truncated?: boolean;
      };

export interface GgufTensorInfo {
    name: string;
    /** ggml order: dims[0] is the fastest-varying (row length). */
    dims: number[];
    type: number;
    typeName: string;
    /** Offset of the data relative to the start of the data section. */
    offset: number;
    /** Absolute offset in the file (dataOffset + offset). */
    absoluteOffset: number;
    nbytes: number;
}

export interface GgufHeader {
    version: number;
    metadata: Map<string, GgufMetadataValue>;
    tensors: GgufTensorInfo[];
    alignment: number;
    /**
     * Absolute file offset where the (aligned) tensor data section starts: the header end rounded up to
     * the alignment. For a file without tensors (a vocab-only file) this may lie past the end of the file.
     */
    dataOffset: number;
    /** File (or buffer) size in bytes. */
    fileSize: number;
}
