#!/usr/bin/env node
// The llama.cpp side of the reference checks, through this project's own API (VisionModel):
//   node scripts/reference/llama_side.mjs REQUEST.json RESPONSE_DIR
// REQUEST: {model, mmproj?, texts: [string], sequences: [[id]], policy?: true}
// RESPONSE_DIR/result.json: {tokens: [[id]] (tokenize, no BOS, special tokens parsed), policy?: string,
//   logitFiles: [file]}; each logits file holds the last position's logits as little-endian float32.
import { Policy } from '../../.cache/cvbuild/lib/policy/index.js';
import { loadModel, readRequest, writeF32, writeResult } from './side-request.mjs';

const { req, outDir } = readRequest();
const model = await loadModel(req);
const result = { tokens: [], logitFiles: [] };
if (req.policy) result.policy = Policy.default('v1.2').render();
const texts = [...(req.texts ?? []), ...(req.policy ? [result.policy] : [])];
for (const t of texts) result.tokens.push(Array.from(model.tokenize(t, { addSpecial: false, parseSpecial: true })));
let i = 0;
for (const seq of req.sequences ?? []) {
    const ctx = await model.createContext({
        contextSize: 512,
        threads: 2,
        flashAttention: 'off',
        cacheType: req.cacheType ?? 'f16',
    });
    const r = await ctx.evaluate({ prompt: { tokens: seq }, logits: true });
    await ctx.close();
    result.logitFiles.push(writeF32(outDir, `logits-${i++}.f32`, r.logits));
}
if (req.image) {
    // an image prompt through the same API: the mmproj loads, encodes and feeds the text model
    const w = 40,
        h = 30,
        data = new Uint8Array(w * h * 3);
    for (let j = 0; j < data.length; j++) data[j] = (j * 37) & 255;
    const ctx = await model.createContext({ contextSize: 2048, threads: 2, flashAttention: 'off' });
    const r = await ctx.evaluate({
        prompt: {
            text: `${req.image.before}${model.info.mediaMarker}${req.image.after}`,
            images: [{ data, width: w, height: h }],
        },
        logits: true,
    });
    await ctx.close();
    result.image = {
        imageTokens: r.imageTokens,
        promptTokens: r.promptTokens,
        nLogits: r.logits.length,
        finite: r.logits.every(Number.isFinite),
    };
}
if (req.imageLogits) {
    // a square image of exactly image_size (llama.cpp copies it unresized) for a logits comparison
    const q = req.imageLogits;
    const rgb = new Uint8Array(Buffer.from(q.rgb, 'base64'));
    const ctx = await model.createContext({
        contextSize: 1024,
        threads: 2,
        flashAttention: 'off',
        cacheType: req.cacheType ?? 'f16',
    });
    const r = await ctx.evaluate({
        prompt: {
            text: `${q.before}${model.info.mediaMarker}${q.after}`,
            images: [{ data: rgb, width: q.width, height: q.height }],
            addSpecial: true,
        },
        logits: true,
    });
    await ctx.close();
    result.imageLogits = {
        file: writeF32(outDir, 'logits-image.f32', r.logits),
        imageTokens: r.imageTokens,
        promptTokens: r.promptTokens,
        before: Array.from(model.tokenize(q.before, { addSpecial: true, parseSpecial: true })),
        after: Array.from(model.tokenize(q.after, { addSpecial: false, parseSpecial: true })),
    };
}
await model.close();
writeResult(outDir, result);
