// Child process of test/hostile-gguf.test.ts: loads each crafted pair with VisionModel.load and, when one loads,
// runs it (a context and a short generation: some of llama.cpp's asserts fire only when a graph is built).
// Prints START before and RESULT after each case, so that a case that kills the process is known by name.
import { VisionModel } from '../../lib/runtime/VisionModel.js';

interface Case {
    name: string;
    model: string;
    mmproj?: string;
}

const cases = JSON.parse(process.argv[2]!) as Case[];
for (const c of cases) {
    console.log(`START ${c.name}`);
    let result: { loaded: boolean; error?: string; message?: string };
    try {
        const model = await VisionModel.load({ model: c.model, mmproj: c.mmproj, mmprojThreads: 1 });
        try {
            await using ctx = await model.createContext({ contextSize: 256 });
            const data = new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) & 255);
            await ctx.generate({
                prompt: c.mmproj
                    ? {
                          text: `USER: ${model.info.mediaMarker}\nhi ASSISTANT:`,
                          images: [{ data, width: 16, height: 16 }],
                      }
                    : { text: 'hi' },
                maxTokens: 2,
                seed: 1,
            });
            result = { loaded: true };
        } finally {
            await model.close();
        }
    } catch (error) {
        result = { loaded: false, error: (error as Error).name, message: (error as Error).message };
    }
    console.log(`RESULT ${c.name} ${JSON.stringify(result)}`);
}
