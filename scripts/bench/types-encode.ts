// Child process of `npm run bench:types` (scripts/bench/types.ts): the vision encoder with each mmproj weight type
// through our addon (VisionContext.encodeImages: encoder + projector, nothing decoded into the KV cache), one
// picture of the encoder's input size (one tile), `repeat` encodes per type in one process; and how far each
// type's embeddings are from the first type's (relative L2). The shaped mmproj files draw each tensor's values
// from the same seeded stream whatever the type, so the difference is the encoding's.
//
//   node --import @tapjs/typescript/import scripts/bench/types-encode.ts '<json spec>'

import { loadImage } from '../../lib/image/index.js';
import { VisionModel } from '../../lib/runtime/VisionModel.js';
import { childResult, childSpec } from './common.js';

export interface TypesEncodeSpec {
    model: string;
    /** mmproj file by type; the first is the one the others are compared with */
    mmprojs: Record<string, string>;
    image: string;
    threads: number;
    repeat: number;
}

export interface TypesEncodeResult {
    imageTokens: number;
    encodeMs: Record<string, number[]>;
    /** ||e - e_first|| / ||e_first|| */
    embedRelL2: Record<string, number>;
}

const spec = childSpec<TypesEncodeSpec>();
const img = await loadImage(spec.image);
const encodeMs: Record<string, number[]> = {};
const embedRelL2: Record<string, number> = {};
let first: Float32Array | undefined;
let imageTokens = 0;
for (const [type, mmproj] of Object.entries(spec.mmprojs)) {
    const model = await VisionModel.load({
        model: spec.model,
        mmproj,
        gpuLayers: 0,
        mmprojThreads: spec.threads,
        mmprojFlashAttention: 'off',
    });
    const ctx = await model.createContext({ contextSize: 1024, threads: spec.threads });
    encodeMs[type] = [];
    let embeddings: Float32Array | undefined;
    for (let i = 0; i < spec.repeat; i++) {
        const [e] = await ctx.encodeImages([{ data: img.data, width: img.width, height: img.height }]);
        encodeMs[type].push(e!.encodeMs);
        embeddings ??= e!.embeddings;
        imageTokens = e!.nTokens;
    }
    await ctx.close();
    await model.close();
    if (!first) first = embeddings;
    else {
        let num = 0;
        let den = 0;
        for (let j = 0; j < first.length; j++) {
            num += (embeddings![j]! - first[j]!) ** 2;
            den += first[j]! ** 2;
        }
        embedRelL2[type] = Math.sqrt(num / den);
    }
}
childResult({ imageTokens, encodeMs, embedRelL2 } satisfies TypesEncodeResult);
