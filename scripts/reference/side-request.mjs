// What the Node sides of the reference checks (llama_side.mjs, pipeline_side.mjs) share: the request file and
// response folder from the command line, the model loaded on the CPU as the Python side loads it, and the files
// they answer with. Imports the build in .cache/cvbuild (tsconfig.json beside this file).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { VisionModel } from '../../.cache/cvbuild/lib/runtime/VisionModel.js';

/** REQUEST.json (parsed) and RESPONSE_DIR (created) from the command line. */
export function readRequest() {
    const [reqFile, outDir] = process.argv.slice(2);
    const req = JSON.parse(readFileSync(reqFile, 'utf8'));
    mkdirSync(outDir, { recursive: true });
    return { req, outDir };
}

/** The request's model (and mmproj) on the CPU, the vision encoder on one thread without flash attention. */
export function loadModel(req) {
    return VisionModel.load({
        model: req.model,
        mmproj: req.mmproj,
        gpuLayers: 0,
        mmprojThreads: 1,
        mmprojFlashAttention: 'off',
    });
}

/** Writes a float array as little-endian float32 into outDir; returns the file's path. */
export function writeF32(outDir, name, a) {
    const f = path.join(outDir, name);
    writeFileSync(f, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    return f;
}

export function writeResult(outDir, result) {
    writeFileSync(path.join(outDir, 'result.json'), JSON.stringify(result));
}
