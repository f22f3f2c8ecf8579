// Metadata written against one builder API, whatever receives it: a GgufWriter writes it to a file, the
// synthetic models' plans (synthetic/plan.ts) record it without writing. The tokenizer keys are laid out
// here once, in the order llama.cpp's convert_hf_to_gguf.py writes them, for the converter and the test models.

import { GgufType, type GgufScalar, type GgufScalarType } from './types.js';

/** llama.cpp's token types (llama_token_type), as tokenizer.ggml.token_type holds them. */
export const TOKEN_TYPE = {
    NORMAL: 1,
    UNKNOWN: 2,
    CONTROL: 3,
    USER_DEFINED: 4,
    UNUSED: 5,
    BYTE: 6,
} as const;

/** A typed adder: addKV with the value's GGUF type fixed. 64-bit integers are stored as bigint. */
function typed(type: GgufScalarType) {
    const wide = type === GgufType.UINT64 || type === GgufType.INT64;
    return function add(this: GgufMetadataBuilder, key: string, v: GgufScalar) {
        return this.addKV(key, type, wide ? BigInt(v as number | bigint) : v);
    } as never;
}

export abstract class GgufMetadataBuilder {
    /** Adds a scalar metadata value (for arrays use addArray). Keys must be unique. */
    abstract addKV(key: string, type: GgufScalarType, value: GgufScalar): this;
    abstract addKV(key: string, type: typeof GgufType.ARRAY, value: GgufScalar[], elemType: GgufScalarType): this;

    // One adder per scalar type (a table: the type is all that differs between them).
    readonly addString: (key: string, v: string) => this = typed(GgufType.STRING);
    readonly addBool: (key: string, v: boolean) => this = typed(GgufType.BOOL);
    readonly addU8: (key: string, v: number) => this = typed(GgufType.UINT8);
    readonly addI8: (key: string, v: number) => this = typed(GgufType.INT8);
    readonly addU16: (key: string, v: number) => this = typed(GgufType.UINT16);
    readonly addI16: (key: string, v: number) => this = typed(GgufType.INT16);
    readonly addU32: (key: string, v: number) => this = typed(GgufType.UINT32);
    readonly addI32: (key: string, v: number) => this = typed(GgufType.INT32);
    readonly addU64: (key: string, v: bigint | number) => this = typed(GgufType.UINT64);
    readonly addI64: (key: string, v: bigint | number) => this = typed(GgufType.INT64);
    readonly addF32: (key: string, v: number) => this = typed(GgufType.FLOAT32);
    readonly addF64: (key: string, v: number) => this = typed(GgufType.FLOAT64);

    addArray(key: string, elemType: GgufScalarType, values: ArrayLike<GgufScalar>): this {
        return this.addKV(key, GgufType.ARRAY, Array.from(values), elemType);
    }
}

/** A vocabulary as llama.cpp's tokenizer.ggml.* keys hold it. */
export interface TokenizerMetadata {
    /** tokenizer.ggml.model: 'llama' (SentencePiece) or 'gpt2' (byte-level BPE) */
    model: string;
    /** tokenizer.ggml.pre: the pre-tokenizer ('default', 'qwen2', ...) */
    pre: string;
    tokens: readonly string[];
    tokenTypes: readonly number[];
    /** SentencePiece only */
    scores?: readonly number[];
    /** BPE only: "left right" pairs in rank order */
    merges?: readonly string[];
    bosId?: number;
    eosId?: number;
    unkId?: number;
    padId?: number;
    addBos: boolean;
    addEos: boolean;
    addSpacePrefix?: boolean;
    chatTemplate?: string;
}

export function addTokenizerMetadata(b: GgufMetadataBuilder, v: TokenizerMetadata): void {
    b.addString('tokenizer.ggml.model', v.model);
    b.addString('tokenizer.ggml.pre', v.pre);
    b.addArray('tokenizer.ggml.tokens', GgufType.STRING, v.tokens);
    if (v.scores) b.addArray('tokenizer.ggml.scores', GgufType.FLOAT32, v.scores);
    b.addArray('tokenizer.ggml.token_type', GgufType.INT32, v.tokenTypes);
    if (v.merges) b.addArray('tokenizer.ggml.merges', GgufType.STRING, v.merges);
    if (v.bosId !== undefined) b.addU32('tokenizer.ggml.bos_token_id', v.bosId);
    if (v.eosId !== undefined) b.addU32('tokenizer.ggml.eos_token_id', v.eosId);
    if (v.unkId !== undefined) b.addU32('tokenizer.ggml.unknown_token_id', v.unkId);
    if (v.padId !== undefined) b.addU32('tokenizer.ggml.padding_token_id', v.padId);
    b.addBool('tokenizer.ggml.add_bos_token', v.addBos);
    b.addBool('tokenizer.ggml.add_eos_token', v.addEos);
    if (v.addSpacePrefix !== undefined) b.addBool('tokenizer.ggml.add_space_prefix', v.addSpacePrefix);
    if (v.chatTemplate !== undefined) b.addString('tokenizer.chat_template', v.chatTemplate);
}
