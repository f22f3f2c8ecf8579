// scripts/debug: reproductions of open backend problems, one script each; they may import lib/, gguf/ and
// test/helpers/.
//
// Reproduces the crash that keeps batched tile encoding off for a vision tower on a GPU: on ggml-vulkan over Debian
// 12's Mesa (lavapipe 22.3), a batched encoder graph that follows a single-image graph on the device segfaults in
// lavapipe's queue thread. The batch outgrows the compute buffer the first encode's warmup reserved; ggml frees it,
// and the driver's queue thread later frees its own record of that buffer and reads it again (valgrind). Mesa 25
// (bookworm-backports; VK_ICD_FILENAMES to its lvp_icd.json) runs it clean. LLAVAGUARD_LOG=debug GGML_SCHED_DEBUG=1
// shows the reserves. Steps run in order on one context; each prints its result.
//
//   LLAVAGUARD_GPU_BATCHED_ENCODE=1 STEPS=1,3,1,3 FAMILY=llava15|onevision FA=off|on|auto TILES=3 \
//     TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import scripts/debug/vulkan-batched-encode.ts
//
// A step is `eval` (a prompt with an image, as an assessment's prefill) or N (encodeImages of TILES tiles,
// N per graph). The same script checks a real GPU: GPU=cuda, with the guard lifted by the variable above; it ends
// with each batched step's worst difference from the rows of tile by tile.

process.env.GGML_VK_VISIBLE_DEVICES ??= '0';
import { cachedTestModel } from '../../gguf/tiny-models.js';
import type { FlashAttention } from '../../lib/runtime/types.js';
import { VisionModel } from '../../lib/runtime/VisionModel.js';
import { imagePrompt, patternImage } from '../../test/helpers/models.js';
import { worstRelative } from '../../test/helpers/rows.js';

const family = (process.env.FAMILY ?? 'llava15') as 'llava15' | 'onevision';
const steps = (process.env.STEPS ?? '1,3,1,3').split(',');
const files = await cachedTestModel(family);
const model = await VisionModel.load({
    model: files.model,
    mmproj: files.mmproj,
    gpu: (process.env.GPU ?? 'vulkan') as 'vulkan',
    mmprojThreads: 1,
    mmprojFlashAttention: (process.env.FA ?? 'auto') as FlashAttention,
});
const side = model.vision!.imageSize;
const tiles = Array.from({ length: Number(process.env.TILES ?? 3) }, (_, i) => patternImage(side, side, i + 1));
await using ctx = await model.createContext({ contextSize: 1024 });
// Each batched step's rows against tile by tile (a step `1`, or one encode of batch 1 after the steps, so that the
// order the steps ask for is kept): on a real GPU this says whether the batch may be lifted for that backend.
let alone: Float32Array[] | undefined;
const batched: Array<{ step: string; rows: Float32Array[] }> = [];
for (const step of steps) {
    process.stdout.write(`step ${step}: `);
    if (step === 'eval') {
        await ctx.evaluate({ prompt: { text: imagePrompt(model), images: [patternImage(48, 48, 3)] }, logits: true });
        process.stdout.write('ok\n');
    } else {
        const out = await ctx.encodeImages(tiles, { batch: Number(step) });
        const rows = out.map((e) => e.embeddings);
        if (Number(step) === 1) alone ??= rows;
        else batched.push({ step, rows });
        process.stdout.write(`ok, encodeMs ${out.map((e) => e.encodeMs.toFixed(1)).join(' ')}\n`);
    }
}
alone ??= (await ctx.encodeImages(tiles, { batch: 1 })).map((e) => e.embeddings);
for (const { step, rows } of batched) {
    const worst = Math.max(...rows.map((r, i) => worstRelative(r, alone![i]!)));
    process.stdout.write(`step ${step}: worst relative difference from tile by tile ${worst.toExponential(2)}\n`);
}
await model.close();
process.stdout.write('done\n');
