// Typed reads of a GGUF header's keys and tensor infos that refuse, with a ModelLoadError naming the file, the
// key and the bound, what llama.cpp or clip.cpp would assert on. ggml's typed getters (gguf_get_val_u32 and
// friends) GGML_ASSERT the value's type (ggml/src/gguf.cpp, gguf_kv::get_val), and clip.cpp calls them without
// checking it first: a key of the wrong type aborts the process, so every key is read here with its exact type.

import { GGML_MAX_DIMS, GgufType, ggufTypeName, type GgufHeader, type GgufTensorInfo } from '../../../gguf/types.js';
import { ModelLoadError } from '../errors.js';

export interface IntBounds {
    /** Absent is allowed (the caller supplies llama.cpp's default). */
    optional?: boolean;
    min?: number;
    max?: number;
    /** Why the maximum, e.g. "LLAMA_MAX_LAYERS". */
    maxWhy?: string;
}

/** One file's header, and reads that throw a ModelLoadError naming the file. */
export class HeaderChecks {
    constructor(
        readonly header: GgufHeader,
        readonly what: 'model' | 'mmproj',
        readonly path: string,
    ) {}

    fail(why: string): never {
        throw new ModelLoadError(`${this.what} file '${this.path}' is refused: ${why}`);
    }

    has(key: string): boolean {
        return this.header.metadata.has(key);
    }

    /** A scalar of exactly this GGUF type (the type ggml's getter asserts), or undefined when absent. */
    #scalar(key: string, type: number, required: boolean): unknown {
        const kv = this.header.metadata.get(key);
        if (!kv) {
            if (required) this.fail(`${key} is missing`);
            return undefined;
        }
        if (kv.type !== type) this.fail(`${key} is a ${ggufTypeName(kv.type)}, it must be a ${ggufTypeName(type)}`);
        return kv.value;
    }

    /** A UINT32 key within bounds (default: at least 1). */
    u32(key: string, bounds: IntBounds & { optional: true }): number | undefined;
    u32(key: string, bounds?: IntBounds): number;
    u32(key: string, bounds: IntBounds = {}): number | undefined {
        const v = this.#scalar(key, GgufType.UINT32, !bounds.optional) as number | undefined;
        if (v === undefined) return undefined;
        const min = bounds.min ?? 1;
        if (v < min) this.fail(`${key} is ${v}, it must be at least ${min}`);
        if (bounds.max !== undefined && v > bounds.max) {
            this.fail(
                `${key} is ${v}, above the maximum of ${bounds.max}${bounds.maxWhy ? ` (${bounds.maxWhy})` : ''}`,
            );
        }
        return v;
    }

    /** A FLOAT32 key that is finite and greater than 0. */
    positiveF32(key: string, optional = false): number | undefined {
        const v = this.#scalar(key, GgufType.FLOAT32, !optional) as number | undefined;
        if (v !== undefined && !(Number.isFinite(v) && v > 0))
            this.fail(`${key} is ${v}, it must be a finite number > 0`);
        return v;
    }

    str(key: string, optional = false): string | undefined {
        return this.#scalar(key, GgufType.STRING, !optional) as string | undefined;
    }

    bool(key: string): boolean | undefined {
        return this.#scalar(key, GgufType.BOOL, false) as boolean | undefined;
    }

    i32(key: string): number | undefined {
        return this.#scalar(key, GgufType.INT32, false) as number | undefined;
    }

    /** An array of exactly this element type, read whole (the reader must not have truncated it). */
    array(key: string, elemType: number, maxLength: number): unknown[] | undefined {
        const kv = this.header.metadata.get(key);
        if (!kv) return undefined;
        if (kv.type !== GgufType.ARRAY || kv.elemType !== elemType) {
            const got = kv.type === GgufType.ARRAY ? `an array of ${ggufTypeName(kv.elemType)}` : ggufTypeName(kv.type);
            this.fail(`${key} is ${got}, it must be an array of ${ggufTypeName(elemType)}`);
        }
        if (kv.length > maxLength) this.fail(`${key} has ${kv.length} elements, more than the ${maxLength} allowed`);
        if (kv.truncated) this.fail(`${key} could not be read whole`);
        return kv.value;
    }

    tensor(name: string): GgufTensorInfo | undefined {
        return this.#tensors().get(name);
    }

    #byName: Map<string, GgufTensorInfo> | undefined;
    #tensors(): Map<string, GgufTensorInfo> {
        this.#byName ??= new Map(this.header.tensors.map((t) => [t.name, t]));
        return this.#byName;
    }

    /**
     * The tensor must exist (unless optional) with exactly these dims (ggml order, trailing 1s ignored, as
     * llama.cpp's create_tensor compares them). `why` says which hyper-parameters the shape comes from.
     */
    shape(name: string, expected: readonly number[], why: string, optional = false): GgufTensorInfo | undefined {
        const t = this.tensor(name);
        if (!t) {
            if (!optional) this.fail(`tensor ${name} is missing (it must be [${expected.join(', ')}]: ${why})`);
            return undefined;
        }
        if (!sameDims(t.dims, expected)) {
            this.fail(`tensor ${name} is [${t.dims.join(', ')}], it must be [${expected.join(', ')}] (${why})`);
        }
        return t;
    }
}

/** Dims equal as ggml sees them: padded to GGML_MAX_DIMS with 1s. */
export function sameDims(a: readonly number[], b: readonly number[]): boolean {
    for (let i = 0; i < GGML_MAX_DIMS; i++) if ((a[i] ?? 1) !== (b[i] ?? 1)) return false;
    return true;
}

/** `a` divides `b` exactly, else refuse: "<what> ... must divide ...". */
export function requireDivides(c: HeaderChecks, divisorKey: string, divisor: number, key: string, value: number): void {
    if (value % divisor !== 0) {
        c.fail(`${divisorKey} (${divisor}) must divide ${key} (${value})`);
    }
}
