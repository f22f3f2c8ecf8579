// Child of test/resource-limits.test.ts, run under an address-space limit (sh -c 'ulimit -v ...'): asks for a context
// whose KV cache cannot be allocated, then for a small one on the same model. Prints one JSON line: how the large
// context failed, and whether the model still ran afterwards.
import { cachedTestModel } from '../../gguf/synthetic/tiny-models.js';
import { VisionModel } from '../../lib/runtime/VisionModel.js';

const files = await cachedTestModel('llava15');
const model = await VisionModel.load({ model: files.model, mmproj: files.mmproj, mmprojThreads: 1 });
const out: Record<string, unknown> = {};
try {
    const ctx = await model.createContext({ contextSize: Number(process.argv[2]) });
    out.large = { created: true };
    await ctx.close();
} catch (error) {
    out.large = { created: false, name: (error as Error).name, message: (error as Error).message };
}
try {
    await using ctx = await model.createContext({ contextSize: 256 });
    const r = await ctx.generate({ prompt: { text: 'hi' }, maxTokens: 2, seed: 1 });
    out.after = { generated: r.tokens.length };
} catch (error) {
    out.after = { error: (error as Error).message };
}
out.metadata = model.info.metadata;
await model.close();
console.log(JSON.stringify(out));
