// Fuzz target (b): a mutated tiny text model or mmproj through everything VisionModel.load does before llama.cpp
// sees the file (validateModelFiles: the GGUF reader, then every hyper-parameter and tensor shape llama.cpp and
// clip.cpp assert on), and, for a file those checks accept, a real load in a child process (load-child.ts: load,
// a context, two generated tokens) so that a native abort shows as the child's signal instead of killing the
// fuzzer. The first byte picks the file (bit 0: model or mmproj; bit 1: OneVision or LLaVA-1.5 tiny pair), the
// rest is its GGUF header; the original tensor data follows it, and the pair's other file is the clean one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGguf } from '../../../gguf/reader.js';
import { cachedTestModel, type TinyFamily } from '../../../gguf/synthetic/tiny-models.js';
import { checkThenLoad } from './crafted-pair.js';
import { closeNativeLoader } from './native-loader.js';

export { closeNativeLoader };

export const FAMILIES: readonly TinyFamily[] = ['onevision', 'llava15'];
export const ROLES = ['model', 'mmproj'] as const;

interface Original {
    path: string;
    header: Buffer;
    data: Buffer;
}

const originals = new Map<string, Original>();
async function original(family: TinyFamily, role: (typeof ROLES)[number]): Promise<Original> {
    const key = `${family}/${role}`;
    let o = originals.get(key);
    if (!o) {
        const pair = await cachedTestModel(family);
        const path = pair[role];
        const bytes = await readFile(path);
        const h = await readGguf(bytes);
        o = { path, header: bytes.subarray(0, h.dataOffset), data: bytes.subarray(h.dataOffset) };
        originals.set(key, o);
    }
    return o;
}

/** The seed for a file of a family: its selector byte, then its header. */
export async function seed(family: TinyFamily, role: (typeof ROLES)[number]): Promise<Buffer> {
    const o = await original(family, role);
    return Buffer.concat([Buffer.of(selector(family, role)), o.header]);
}
const selector = (family: TinyFamily, role: string) => (role === 'mmproj' ? 1 : 0) | (family === 'llava15' ? 2 : 0);

const work = join(tmpdir(), `llavaguard-fuzz-${process.pid}`);
mkdirSync(work, { recursive: true });
export async function fuzz(data: Buffer): Promise<void> {
    if (data.length < 2) return;
    const family = FAMILIES[(data[0]! >> 1) & 1]!;
    const role = ROLES[data[0]! & 1]!;
    const o = await original(family, role);
    const other = await original(family, role === 'model' ? 'mmproj' : 'model');
    const header = data.subarray(1);
    const pad = Buffer.alloc((32 - (header.length % 32)) % 32);
    const mutated = join(work, `${role}.gguf`);
    writeFileSync(mutated, Buffer.concat([header, pad, o.data]));
    await checkThenLoad(role, mutated, other.path, `${family} ${role}`);
}
