// Fuzz target (b, structure-aware): where model-files mutates a header's bytes (and so mostly exercises the
// reader), this one reads its input as a list of edits to a well-formed tiny model or mmproj (set a key, the
// keys llama.cpp and clip.cpp read among them, to a value of any type, often one at a boundary; remove a key;
// reshape, retype or drop a tensor), writes the edited file as a valid GGUF, and runs it like model-files: the
// checks of validateModelFiles, then a native load in the child for each new set of hyper-parameters and shapes
// the checks accept. A file they accept that the load aborts on is a finding; so is any non-ModelLoadError.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFile, readTensorData } from '../../../gguf/reader.js';
import { cachedTestModel, type TinyFamily } from '../../../gguf/synthetic/tiny-models.js';
import {
    ggmlTensorBytes,
    GgufType,
    type GgufHeader,
    type GgufScalar,
    type GgufScalarType,
    type GgufTensorInfo,
} from '../../../gguf/types.js';
import { GgufWriter } from '../../../gguf/writer.js';
import { checkThenLoad } from './crafted-pair.js';
import { closeNativeLoader } from './native-loader.js';

export { closeNativeLoader };
const ROLES = ['model', 'mmproj'] as const;

const FAMILIES: readonly TinyFamily[] = ['onevision', 'llava15'];
type Role = (typeof ROLES)[number];

/** Keys read on our path that a tiny file may lack (set them to reach the code that reads them). */
const EXTRA_KEYS = [
    'clip.vision.image_grid_pinpoints',
    'clip.vision.feature_layer',
    'clip.vision.mm_patch_merge_type',
    'clip.vision.image_mean',
    'clip.vision.image_std',
    'clip.vision.attention.head_count_kv',
    'clip.vision.projection_dim',
    'clip.vision.spatial_merge_size',
    'clip.vision.window_size',
    'clip.vision.n_wa_pattern',
    'clip.vision.image_min_pixels',
    'clip.vision.image_max_pixels',
    'clip.use_gelu',
    'clip.use_silu',
    'clip.minicpmv_version',
    'clip.projector_type',
    'clip.vision.projector.scale_factor',
    'clip.has_llava_projector',
    'qwen2.rope.scaling.type',
    'qwen2.rope.scaling.factor',
    'qwen2.rope.scaling.original_context_length',
    'qwen2.attention.key_length',
    'qwen2.attention.value_length',
    'qwen2.rope.dimension_count',
    'qwen2.vocab_size',
    'llama.rope.scaling.type',
    'llama.rope.scaling.factor',
    'llama.attention.key_length',
    'llama.rope.dimension_count',
    'llama.vocab_size',
    'llama.expert_count',
    'tokenizer.ggml.bos_token_id',
    'tokenizer.ggml.eos_token_id',
    'tokenizer.ggml.padding_token_id',
    'tokenizer.ggml.add_bos_token',
    'tokenizer.chat_template',
];
const U32S = [0, 1, 2, 3, 4, 7, 8, 13, 14, 16, 27, 31, 32, 63, 64, 65, 127, 128, 192, 255, 256, 384, 511, 512, 513];
const BIG_U32S = [1023, 1024, 4096, 8192, 8193, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff];
const F32S = [0, -0, -1, 1, 0.5, 1e-6, 1e-30, 1e30, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
const STRINGS = ['', 'mlp', 'ldp', 'qwen2vl_merger', 'llama', 'qwen2', 'gpt2', 'none', 'linear', 'yarn', 'flat'];
const STRINGS2 = ['spatial_unpad', 'gelu', 'clip', 'llava', 'x'.repeat(300), '\u0000', '{{ bos_token }}'];
const TYPES = [0, 1, 8, 2, 30, 12, 99];

/** Reads the fuzzer's bytes as small choices; past the end everything is 0. */
class Choices {
    #i = 0;
    constructor(private readonly data: Buffer) {}
    byte(): number {
        return this.#i < this.data.length ? this.data[this.#i++]! : 0;
    }
    u32(): number {
        return (this.byte() | (this.byte() << 8) | (this.byte() << 16) | (this.byte() << 24)) >>> 0;
    }
    pick<T>(xs: readonly T[]): T {
        return xs[this.byte() % xs.length]!;
    }
    get left(): number {
        return this.data.length - this.#i;
    }
}

type Value = { type: GgufScalarType; value: GgufScalar } | { type: 9; elemType: GgufScalarType; value: GgufScalar[] };

function value(c: Choices): Value {
    const u32 = () => (c.byte() % 4 === 0 ? c.pick(BIG_U32S) : c.byte() % 3 === 0 ? c.u32() : c.pick(U32S));
    switch (c.byte() % 9) {
        case 0:
        case 1:
            return { type: GgufType.UINT32, value: u32() };
        case 2:
            return { type: GgufType.INT32, value: c.byte() % 2 ? -u32() | 0 : u32() | 0 };
        case 3:
            return { type: GgufType.FLOAT32, value: c.pick(F32S) };
        case 4:
            return { type: GgufType.STRING, value: c.pick(c.byte() % 2 ? STRINGS : STRINGS2) };
        case 5:
            return { type: GgufType.BOOL, value: c.byte() % 2 === 1 };
        case 6:
            return { type: GgufType.UINT64, value: BigInt(u32()) };
        case 7: {
            const n = c.byte() % 9;
            return { type: 9, elemType: GgufType.INT32, value: Array.from({ length: n }, () => u32() | 0) };
        }
        default: {
            const n = c.byte() % 9;
            return { type: 9, elemType: GgufType.FLOAT32, value: Array.from({ length: n }, () => c.pick(F32S)) };
        }
    }
}

interface Original {
    path: string;
    header: GgufHeader;
    data: Map<string, Uint8Array>;
}
const originals = new Map<string, Original>();
async function original(family: TinyFamily, role: Role): Promise<Original> {
    const key = `${family}/${role}`;
    let o = originals.get(key);
    if (!o) {
        const path = (await cachedTestModel(family))[role];
        const header = await readGgufFile(path);
        const data = new Map<string, Uint8Array>();
        for (const t of header.tensors) data.set(t.name, await readTensorData(path, t));
        o = { path, header, data };
        originals.set(key, o);
    }
    return o;
}

interface TensorPlan {
    name: string;
    dims: number[];
    type: number;
    data?: Uint8Array;
}

/** The edited file's metadata and tensors, or undefined when the edits make no file the writer can write. */
function edit(o: Original, c: Choices): { kvs: Map<string, Value>; tensors: TensorPlan[]; done: string[] } {
    const kvs = new Map<string, Value>();
    for (const [k, v] of o.header.metadata) if (k !== 'general.alignment') kvs.set(k, v as Value);
    const tensors: TensorPlan[] = o.header.tensors.map((t: GgufTensorInfo) => ({
        name: t.name,
        dims: [...t.dims],
        type: t.type,
        data: o.data.get(t.name),
    }));
    const keys = [...kvs.keys()].filter((k) => !k.startsWith('tokenizer.ggml.'));
    const done: string[] = [];
    const show = (v: Value) => `${v.type === 9 ? `[${v.value.join(', ')}]` : String(v.value)} (type ${v.type})`;
    const edits = 1 + (c.byte() % 4);
    for (let e = 0; e < edits && c.left > 0; e++) {
        const kind = c.byte() % 6;
        switch (kind) {
            case 0:
            case 1: {
                const k = c.pick(kind === 1 ? EXTRA_KEYS : keys);
                const v = value(c);
                kvs.set(k, v);
                done.push(`set ${k} = ${show(v)}`);
                break;
            }
            case 2: {
                const k = c.pick(keys);
                kvs.delete(k);
                done.push(`remove ${k}`);
                break;
            }
            case 3: {
                const t = c.pick(tensors);
                const d = c.byte() % 4;
                while (t.dims.length <= d) t.dims.push(1);
                t.dims[d] = c.byte() % 3 === 0 ? c.pick([0, 1, 2, 3, 4096, 65536]) : c.pick(U32S);
                t.data = undefined;
                done.push(`reshape ${t.name} to [${t.dims.join(', ')}]`);
                break;
            }
            case 4: {
                const [t] = tensors.splice(c.byte() % tensors.length, 1);
                done.push(`drop ${t!.name}`);
                break;
            }
            default: {
                const t = c.pick(tensors);
                t.type = c.pick(TYPES);
                t.data = undefined;
                done.push(`retype ${t.name} to ggml type ${t.type}`);
                break;
            }
        }
    }
    return { kvs, tensors, done };
}

const work = join(tmpdir(), `llavaguard-fuzz-edits-${process.pid}`);
mkdirSync(work, { recursive: true });
const MAX_TENSOR_BYTES = 64 << 20;

export async function fuzz(data: Buffer): Promise<void> {
    const c = new Choices(data);
    const family = c.pick(FAMILIES);
    const role = c.pick(ROLES);
    const o = await original(family, role);
    const other = await original(family, role === 'model' ? 'mmproj' : 'model');
    const { kvs, tensors, done } = edit(o, c);

    const w = new GgufWriter();
    const path = join(work, `${role}.gguf`);
    try {
        for (const [k, v] of kvs) {
            if (v.type === 9) w.addKV(k, GgufType.ARRAY, v.value, v.elemType);
            else w.addKV(k, v.type, v.value);
        }
        for (const t of tensors) {
            const bytes = ggmlTensorBytes(t.dims, t.type);
            if (bytes > MAX_TENSOR_BYTES) return;
            w.addTensor(t.name, t.dims, t.type, t.data ?? new Uint8Array(bytes));
        }
        await w.write(path);
    } catch {
        return; // edits the writer refuses (a dim that is not a whole block, an unknown type): no file to test
    }
    await checkThenLoad(role, path, other.path, `${family} ${role} (${done.join('; ')})`);
}
