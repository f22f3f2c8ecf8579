// Vulkan, for real, without a GPU: Mesa's software device (llvmpipe) is a Vulkan device like any other, and ggml
// uses it once GGML_VK_VISIBLE_DEVICES names it (it skips CPU-type devices otherwise). Needs the prebuilt route
// (ggml's backends loaded at run time), @llavaguard/linux-x64-vulkan (a workspace here) and Debian's
// mesa-vulkan-drivers + libvulkan1, which .ci/run installs.
process.env.GGML_VK_VISIBLE_DEVICES ??= '0';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { selectGpu } from '../lib/bindings/gpu.js';
import { loadNativeAddon } from '../lib/bindings/loadAddon.js';
import { LlavaGuard } from '../lib/guard/LlavaGuard.js';
import { Policy } from '../lib/policy/index.js';
import { VisionModel } from '../lib/runtime/VisionModel.js';
import { cachedTestModel } from '../gguf/tiny-models.js';
import { FAMILIES, imagePrompt, patternImage } from './helpers/models.js';

/** Largest |Vulkan - CPU| over the first-token logits, relative to the largest |CPU| logit: llvmpipe's F16
 * matrix products give about half of it (BENCHMARKS.md, "Vulkan on llvmpipe"); a wrong offload (a layer skipped,
 * a tower on garbage) differs by the order of the logits themselves. */
const RELATIVE_LOGIT_TOLERANCE = 1e-2;

async function vulkanUnavailable(): Promise<string | undefined> {
    if (!loadNativeAddon().addon.systemInfo().dynamicBackends) {
        return 'the addon in use has ggml compiled in (a from-source build); the prebuilt route loads GPU backends at run time';
    }
    try {
        await selectGpu('vulkan');
        return undefined;
    } catch (error) {
        return `${(error as Error).message} (Debian: apt-get install mesa-vulkan-drivers libvulkan1)`;
    }
}

// A planted driver in the current folder must never be taken (node-llama-cpp's backends search it: an empty RUNPATH
// entry): the loader opens libvulkan.so.1 from the system first.
const planted = mkdtempSync(join(tmpdir(), 'llavaguard-planted-'));
writeFileSync(join(planted, 'libvulkan.so.1'), 'not a library');
process.chdir(planted);
t.teardown(() => rmSync(planted, { recursive: true, force: true }));

const skip = await vulkanUnavailable();
if (skip) {
    t.comment(`Vulkan test skipped: ${skip}`);
    t.pass('skipped: no Vulkan device');
} else {
    for (const family of FAMILIES) {
        t.test(
            `${family}: every layer and the vision tower run on the Vulkan device, with the CPU's verdict`,
            async (t) => {
                const files = await cachedTestModel(family);
                const load = (gpu: 'cpu' | 'vulkan') =>
                    VisionModel.load({ model: files.model, mmproj: files.mmproj, gpu, mmprojThreads: 1 });
                const vk = await load('vulkan');
                const cpu = await load('cpu');
                t.teardown(async () => {
                    await vk.close();
                    await cpu.close();
                });

                t.equal(vk.gpu.backend, 'vulkan');
                t.equal(vk.info.gpuBackend, 'vulkan');
                t.match(vk.gpu.device, /\S/, `device: ${vk.gpu.device}`);
                const log = vk.info.placementLog.join('\n');
                const offloaded = /offloaded (\d+)\/(\d+) layers to GPU/.exec(log);
                t.ok(offloaded && offloaded[1] === offloaded[2], `llama.cpp: ${offloaded?.[0] ?? log}`);
                t.match(log, /CLIP using Vulkan\d* backend/, 'the vision tower on Vulkan');
                t.equal(cpu.gpu.backend, 'cpu');
                t.same(cpu.info.devices, []);

                const image = patternImage(48, 48, 3);
                const logits = async (model: VisionModel) => {
                    await using ctx = await model.createContext({ contextSize: 1024 });
                    return (await ctx.evaluate({ prompt: { text: imagePrompt(model), images: [image] }, logits: true }))
                        .logits!;
                };
                const a = await logits(vk);
                const b = await logits(cpu);
                let diff = 0;
                let scale = 0;
                for (let i = 0; i < b.length; i++) {
                    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
                    scale = Math.max(scale, Math.abs(b[i]!));
                }
                t.comment(
                    `${family}: first-token logits, max |vulkan - cpu| = ${diff.toExponential(3)}, max |cpu| = ${scale.toFixed(3)}`,
                );
                t.ok(
                    diff / scale <= RELATIVE_LOGIT_TOLERANCE,
                    `relative difference ${(diff / scale).toExponential(3)}`,
                );

                // a batch asked of a tower on the device is encoded one graph a tile (a batched graph after other
                // encodes crashes Debian 12's lavapipe), with the same rows
                {
                    await using ctx = await vk.createContext({ contextSize: 1024 });
                    const side = vk.vision!.imageSize;
                    const tiles = [1, 2, 3].map((seed) => patternImage(side, side, seed));
                    const alone = await ctx.encodeImages(tiles, { batch: 1 });
                    const asked = await ctx.encodeImages(tiles, { batch: 3 });
                    t.equal(new Set(asked.map((e) => e.encodeMs)).size, 3, 'one graph a tile on the device');
                    for (let i = 0; i < tiles.length; i++)
                        t.same(asked[i]!.embeddings, alone[i]!.embeddings, `tile ${i}: the same rows`);
                }

                const png = await sharp(Buffer.from(image.data), { raw: { width: 48, height: 48, channels: 3 } })
                    .png()
                    .toBuffer();
                const verdict = async (gpu: 'cpu' | 'vulkan') => {
                    await using guard = await LlavaGuard.load({
                        model: files.model,
                        mmproj: files.mmproj,
                        gpu,
                        threads: 1,
                    });
                    // Two categories keep the prompt short: llvmpipe evaluates a few hundred tokens a second.
                    const version = guard.modelInfo.policyVersion as 'v1.0' | 'v1.2';
                    const policy = Policy.default(version).remove('O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9');
                    return await guard.assess(png, { policy, temperature: 0, rationale: false });
                };
                const onVulkan = await verdict('vulkan');
                const onCpu = await verdict('cpu');
                t.equal(onVulkan.backend, 'vulkan');
                t.equal(onVulkan.device, vk.gpu.device);
                t.equal(onCpu.backend, 'cpu');
                t.equal(onVulkan.rating, onCpu.rating, 'greedy: the same rating');
                t.equal(onVulkan.category, onCpu.category, 'greedy: the same category');
            },
        );
    }
}
