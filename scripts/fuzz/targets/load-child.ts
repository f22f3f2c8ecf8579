// Child process of native-loader.ts: reads one {model, mmproj} JSON line at a time from stdin, loads the pair with
// VisionModel.load and runs it (a context and two generated tokens: some of llama.cpp's asserts fire only when a
// graph is built), and answers one JSON line. A load that aborts ends this process, which the parent reports.
import { createInterface } from 'node:readline';
import { VisionModel } from '../../../lib/runtime/VisionModel.js';

async function loadAndRun(
    model: string,
    mmproj: string,
): Promise<{ loaded: boolean; error?: string; message?: string }> {
    try {
        const m = await VisionModel.load({ model, mmproj, mmprojThreads: 1 });
        try {
            await using ctx = await m.createContext({ contextSize: 256 });
            const data = new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) & 255);
            await ctx.generate({
                prompt: {
                    text: `USER: ${m.info.mediaMarker}\nhi ASSISTANT:`,
                    images: [{ data, width: 16, height: 16 }],
                },
                maxTokens: 2,
                seed: 1,
            });
            return { loaded: true };
        } finally {
            await m.close();
        }
    } catch (error) {
        return { loaded: false, error: (error as Error).name, message: (error as Error).message.slice(0, 500) };
    }
}

for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const { model, mmproj } = JSON.parse(line) as { model: string; mmproj: string };
    process.stdout.write(`${JSON.stringify(await loadAndRun(model, mmproj))}\n`);
}
