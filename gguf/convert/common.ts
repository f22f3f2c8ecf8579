// What every converted file has in common: its name and LlavaGuard version, the general.* and llavaguard.*
// keys that say where it came from, and the atomic write of the files of one conversion.

import { promises as fsp } from 'node:fs';
import path from 'node:path';

import type { GgufWriter } from '../writer.js';
import type { Json } from './config.js';
import type { OutType } from './tensor-planner.js';

/** llama_ftype of the file as a whole */
const FILE_TYPE: Record<OutType, number> = { f32: 0, f16: 1, q8_0: 7 };

export interface ModelNaming {
    name: string;
    llavaguardVersion?: string;
}

/** general.name from config._name_or_path or the folder; the LlavaGuard version from either. */
export function modelNaming(dir: string, config: Json, override?: string): ModelNaming {
    const orig = typeof config._name_or_path === 'string' && config._name_or_path ? config._name_or_path : undefined;
    const base = path.basename(path.resolve(dir));
    const name = override ?? (orig ? orig.split('/').pop()! : base);
    let llavaguardVersion: string | undefined;
    for (const s of [override, orig, base]) {
        const m = s && /llavaguard[-_ ]?v?(\d+(?:\.\d+)+)/i.exec(s);
        if (m) {
            llavaguardVersion = m[1];
            break;
        }
    }
    return { name, llavaguardVersion };
}

export function commonMeta(
    w: GgufWriter,
    arch: string,
    kind: 'model' | 'mmproj',
    naming: ModelNaming,
    outType: OutType,
    hfArch: string,
    description: string,
): void {
    w.addString('general.architecture', arch);
    w.addString('general.type', kind);
    w.addString('general.name', naming.name + (kind === 'mmproj' ? ' mmproj' : ''));
    w.addString('general.description', description);
    w.addU32('general.file_type', FILE_TYPE[outType]);
    w.addU32('general.quantization_version', 2); // llama.cpp's converter writes it for every type
    w.addString('llavaguard.hf_architecture', hfArch);
    if (naming.llavaguardVersion) w.addString('llavaguard.version', naming.llavaguardVersion);
    w.addString('llavaguard.converter', 'llavaguard convert (TypeScript)');
}

export interface OutputFile {
    path: string;
    writer: GgufWriter;
}

/**
 * Writes each file as `<path>.part` (GgufWriter itself goes through `.part.tmp`), then renames them
 * all into place; on any failure every partial file is removed and no final name is touched.
 */
export async function writeAll(files: OutputFile[], log: (s: string) => void): Promise<number[]> {
    const sizes: number[] = [];
    const parts = files.map((f) => `${f.path}.part`);
    for (const f of files) await fsp.mkdir(path.dirname(f.path), { recursive: true });
    try {
        for (let i = 0; i < files.length; i++) {
            log(`writing ${files[i]!.path} (${files[i]!.writer.tensorCount} tensors)`);
            sizes.push(await files[i]!.writer.write(parts[i]!));
        }
        for (let i = 0; i < files.length; i++) await fsp.rename(parts[i]!, files[i]!.path);
    } catch (error) {
        for (const p of parts) {
            await fsp.rm(p, { force: true });
            await fsp.rm(`${p}.tmp`, { force: true });
        }
        throw error;
    }
    return sizes;
}
