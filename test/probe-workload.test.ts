// The flash-attention probe prices the caller's workload: the runtime knows no application (LlavaGuard passes
// its prompt's size), and without one it derives a generic workload from the context size.
import t from 'tap';
import { closeAllModels, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

t.test("the probe prices the caller's workload, and the context size without one", async (t) => {
    const model = await tinyModel('onevision');
    const estimate = async (options: Parameters<typeof model.createContext>[0]) => {
        await using ctx = await model.createContext(options);
        t.equal(ctx.flashAttention.source, 'measured', 'measured on the CPU');
        return ctx.flashAttention.msWithout!;
    };
    const small = await estimate({ contextSize: 2048, workload: { promptTokens: 32, generatedTokens: 0 } });
    const large = await estimate({ contextSize: 2048, workload: { promptTokens: 1800, generatedTokens: 64 } });
    t.ok(large > small, `a larger workload costs more attention time (${large} > ${small} ms)`);
    const byDefault = await estimate({ contextSize: 128 });
    const byDefaultLarge = await estimate({ contextSize: 4096 });
    t.ok(byDefaultLarge > byDefault, `the default workload grows with the context (${byDefaultLarge} > ${byDefault})`);
});
