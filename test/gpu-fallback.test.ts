// gpu: 'auto' never fails for want of a GPU: it falls back to the CPU and says what it tried and why each failed.
import t from 'tap';
import { selectGpu } from '../lib/bindings/gpu.js';
import { loadNativeAddon } from '../lib/bindings/loadAddon.js';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { LlavaGuard } from '../lib/guard/LlavaGuard.js';

// Without this variable ggml's Vulkan backend skips software devices, so a machine without a GPU has none.
delete process.env.GGML_VK_VISIBLE_DEVICES;
const native = loadNativeAddon();

t.test('auto falls back to the CPU with the reason of every backend it tried', async (t) => {
    const choice = await selectGpu('auto');
    if (choice.backend !== 'cpu') {
        t.pass(`this machine has a GPU: ${choice.backend} on ${choice.device}`);
        return;
    }
    t.same(choice.devices, []);
    if (native.addon.systemInfo().dynamicBackends) {
        // The checkout has both GPU packages (workspaces): each one tried, each failure said.
        t.match(choice.reason, /^no GPU backend could run: cuda: .+; vulkan: .+/);
    } else {
        t.match(choice.reason, /built without a GPU backend|no \w+ device/);
    }
    await t.rejects(selectGpu('metal' as const), /gpu 'metal' is not available/);
    await t.rejects(selectGpu('tpu' as never), /option 'gpu' must be one of auto, cpu, cuda, vulkan, metal/);
});

t.test(
    'a guard loaded with the default gpu says where it runs and why, on the model info and each result',
    async (t) => {
        const files = await cachedTestModel('onevision');
        await using guard = await LlavaGuard.load({ model: files.model, mmproj: files.mmproj, threads: 1 });
        const gpu = guard.modelInfo.gpu;
        t.match(gpu.reason, /\S/, `reason: ${gpu.reason}`);
        const a = await guard.assess(
            { data: new Uint8Array(16 * 16 * 3).fill(90), width: 16, height: 16, channels: 3 },
            { rationale: false },
        );
        t.equal(a.backend, gpu.backend);
        t.equal(a.device, gpu.device);
    },
);
