#!/usr/bin/env node
// Our side of the image-pipeline reference check (check_pipeline.py), through lib/pipeline and VisionContext:
//   node scripts/reference/pipeline_side.mjs REQUEST.json RESPONSE_DIR
// REQUEST: {model, mmproj, images: [png path], before, after, addSpecial, cacheType}
// RESPONSE_DIR/result.json: per image {pipeline, imageTokens, promptTokens, embeddings: f32 file (the rows
// decoded at the image's place), logits: f32 file (last position)}, plus before/after token ids.
import { loadImage } from '../../.cache/cvbuild/lib/image/index.js';
import { ImagePipeline } from '../../.cache/cvbuild/lib/pipeline/index.js';
import { loadModel, readRequest, writeF32, writeResult } from './side-request.mjs';

const { req, outDir } = readRequest();
const model = await loadModel(req);
const pipeline = await ImagePipeline.create(model, 'faithful');
const ctx = await model.createContext({
    contextSize: 4096,
    threads: 1,
    flashAttention: 'off',
    cacheType: req.cacheType ?? 'f32',
});
const f32 = (name, a) => writeF32(outDir, name, a);
const result = {
    pipeline: pipeline.name,
    before: Array.from(model.tokenize(req.before, { addSpecial: req.addSpecial, parseSpecial: true })),
    after: Array.from(model.tokenize(req.after, { addSpecial: false, parseSpecial: true })),
    images: [],
};
for (const [i, file] of req.images.entries()) {
    const rgb = await loadImage(file);
    const prepared = await pipeline.prepare(rgb, ctx);
    // the rows the text model receives: ours from the pipeline, or mtmd's encoding of the prepared picture
    const rows = prepared.embeddings
        ? prepared.embeddings[0].data
        : (await ctx.encodeImages(prepared.images))[0].embeddings;
    const prompt = {
        text: `${req.before}${model.info.mediaMarker}${req.after}`,
        images: prepared.images,
        embeddings: prepared.embeddings,
        addSpecial: req.addSpecial,
    };
    const r = await ctx.evaluate({ prompt, logits: true });
    result.images.push({
        file,
        width: rgb.width,
        height: rgb.height,
        pipeline: prepared.pipeline,
        imageTokens: r.imageTokens,
        promptTokens: r.promptTokens,
        embeddings: f32(`embd-${i}.f32`, rows),
        logits: f32(`logits-${i}.f32`, r.logits),
    });
}
await ctx.close();
await model.close();
writeResult(outDir, result);
