// Writes a fuzz target's seed corpus (nothing binary is committed): GGUF headers of the tiny generated models,
// small images in every format sharp decodes, and example policies and manifests.
// Usage (compiled by run.mjs): node seeds.js TARGET OUT_DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type SharpOptions } from 'sharp';
import { readGguf } from '../../gguf/reader.js';
import { cachedTestModel, type TinyFamily } from '../../gguf/synthetic/tiny-models.js';
import { Policy } from '../../lib/policy/policy.js';
import { FAMILIES, ROLES, seed as modelSeed } from './targets/model-files.js';

export const TARGETS = ['gguf-reader', 'model-files', 'model-edits', 'image', 'policy-manifest'] as const;
export type FuzzTarget = (typeof TARGETS)[number];

async function ggufHeaders(): Promise<Record<string, Buffer>> {
    const out: Record<string, Buffer> = {};
    for (const family of FAMILIES as TinyFamily[]) {
        for (const weightType of ['f16', 'q8_0'] as const) {
            const pair = await cachedTestModel(family, { weightType });
            for (const role of ROLES) {
                const bytes = await readFile(pair[role]);
                out[`${family}-${weightType}-${role}.gguf`] = bytes.subarray(0, (await readGguf(bytes)).dataOffset);
            }
        }
    }
    return out;
}

async function modelFiles(): Promise<Record<string, Buffer>> {
    const out: Record<string, Buffer> = {};
    for (const family of FAMILIES) for (const role of ROLES) out[`${family}-${role}`] = await modelSeed(family, role);
    return out;
}

async function images(): Promise<Record<string, Buffer>> {
    const w = 12;
    const h = 9;
    const rgba = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([(i * 29) & 255, (i * 7) & 255, (i * 53) & 255, i % 3 ? 255 : 96], i * 4);
    const base = () => sharp(rgba, { raw: { width: w, height: h, channels: 4 } });
    const twoFrames = sharp(Buffer.concat([rgba, rgba.map((b) => 255 - b)]), {
        raw: { width: w, height: h * 2, channels: 4, pageHeight: h },
    } as SharpOptions);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="6" height="4" fill="#c33"/><circle cx="8" cy="6" r="3" fill="#36c"/></svg>`;
    return {
        'rgba.png': await base().png().toBuffer(),
        'rgb.png': await base().removeAlpha().png().toBuffer(),
        'grey16.png': await base().greyscale().toColourspace('grey16').png().toBuffer(),
        'palette.png': await base().png({ palette: true, colours: 8 }).toBuffer(),
        'exif6.jpg': await base().removeAlpha().jpeg({ quality: 70 }).withMetadata({ orientation: 6 }).toBuffer(),
        'progressive.jpg': await base().removeAlpha().jpeg({ progressive: true }).toBuffer(),
        'cmyk.jpg': await base().removeAlpha().toColourspace('cmyk').jpeg().toBuffer(),
        'lossy.webp': await base().webp({ quality: 50 }).toBuffer(),
        'lossless.webp': await base().webp({ lossless: true }).toBuffer(),
        'anim.gif': await twoFrames.gif().toBuffer(),
        'rgba.tiff': await base().tiff().toBuffer(),
        'rgb.avif': await base().removeAlpha().avif({ quality: 40, effort: 0 }).toBuffer(),
        'shapes.svg': Buffer.from(svg),
    };
}

/** Edit lists for model-edits: family and role, then edits (each a few choice bytes). */
function modelEdits(): Record<string, Buffer> {
    const out: Record<string, Buffer> = {};
    for (let i = 0; i < 8; i++) {
        out[`edits-${i}`] = Buffer.from(Array.from({ length: 24 }, (_, k) => (i * 37 + k * (i + 11)) & 255));
    }
    return out;
}

function policiesAndManifests(): Record<string, Buffer> {
    const pick = (i: number, text: string) => Buffer.concat([Buffer.of(i), Buffer.from(text)]);
    const policy = Policy.default('v1.2').toJSON();
    const custom = {
        ...policy,
        categories: policy.categories.slice(0, 3).map((c, i) => ({ ...c, status: i ? 'allowed' : 'sensitive' })),
    };
    return {
        'policy-default.json': pick(0, JSON.stringify(policy, null, 1)),
        'policy-custom.json': pick(0, JSON.stringify(custom)),
        'policy-v10.json': pick(0, JSON.stringify(Policy.default('v1.0').toJSON())),
        'scan.jsonl': pick(1, '{"path":"a.png"}\n\n{"path":"dir/b c.jpg","x":1}\n'),
        'scan.csv': pick(2, '\ufeffid,path\n1,a.png\n2,"b,""c"".jpg"\n3,\n'),
        'eval.jsonl': pick(
            3,
            '{"id":1,"path":"a.png","rating":"Safe"}\n{"path":"b.png","rating":"Unsafe","category":"O2","score":"High Risk","split":"test"}\n',
        ),
        'eval.csv': pick(
            4,
            'id,path,rating,category,score,split\nx,a.png,Unsafe,"O1: Hate, Humiliation, Harassment",,dev\ny,b.png,safe,,,\n',
        ),
    };
}

export async function writeSeeds(target: FuzzTarget, dir: string): Promise<number> {
    const files =
        target === 'gguf-reader'
            ? await ggufHeaders()
            : target === 'model-files'
              ? await modelFiles()
              : target === 'model-edits'
                ? modelEdits()
                : target === 'image'
                  ? await images()
                  : policiesAndManifests();
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    return Object.keys(files).length;
}

if (process.argv[1]?.endsWith('seeds.js') || process.argv[1]?.endsWith('seeds.ts')) {
    const [target, dir] = process.argv.slice(2) as [FuzzTarget, string];
    if (!TARGETS.includes(target)) throw new Error(`unknown fuzz target '${target}' (${TARGETS.join(', ')})`);
    console.log(`${await writeSeeds(target, dir)} seeds for ${target} in ${dir}`);
    process.exit(0);
}
