import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeTestModel } from '../gguf/synthetic/tiny-models.js';
import { VisionModel } from '../lib/runtime/VisionModel.js';
import { quantizeModel } from '../lib/tools/quantize.js';
import { imagePrompt, patternImage } from './helpers/models.js';

const bin = join(import.meta.dirname, '..', 'dist', 'lib', 'cli', 'main.js');

t.test("quantize writes a model llama.cpp loads and runs, through llama.cpp's own quantizer", async (t) => {
    const dir = t.testdir({});
    const pair = await makeTestModel({ family: 'onevision', outDir: join(dir, 'f32'), weightType: 'f32' });
    for (const type of ['q8_0', 'q4_k_m'] as const) {
        const out = join(dir, `model-${type}.gguf`);
        await quantizeModel(pair.model, out, type, 1);
        const model = await VisionModel.load({ model: out, mmproj: pair.mmproj });
        t.match(model.info.description, type === 'q8_0' ? /Q8_0/ : /Q4_K/, model.info.description);
        await using ctx = await model.createContext({ contextSize: 512, threads: 1 });
        const r = await ctx.generate({
            prompt: { text: imagePrompt(model), images: [patternImage(16, 16)] },
            seed: 1,
            maxTokens: 4,
        });
        t.ok(r.tokens.length > 0, `${type}: generates`);
        await model.close();
    }
});

t.test('quantize rejects a non-GGUF input with a clear error and leaves no output', async (t) => {
    const dir = t.testdir({ 'bad.gguf': 'not a model' });
    const out = join(dir, 'out.gguf');
    await t.rejects(quantizeModel(join(dir, 'bad.gguf'), out, 'q8_0'), { message: /not a valid GGUF/ });
    t.equal(existsSync(out) || existsSync(`${out}.part`), false);
    await t.rejects(quantizeModel(join(dir, 'bad.gguf'), out, 'q3_x' as never), { name: 'TypeError' });
});

t.test(
    'tokenize prints llama.cpp token ids, one JSON array per JSON-string line, from a vocabulary-only load',
    async (t) => {
        const dir = t.testdir({});
        const pair = await makeTestModel({ family: 'llava15', outDir: dir });
        const texts = ['Hello world', ' two  spaces\tand a tab', 'emoji 😀 and ünïcödé', '{"rating": "Safe"}'];
        const run = (input: string) =>
            new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
                const child = execFile(
                    process.execPath,
                    [bin, 'tokenize', '--model', pair.model],
                    (error, stdout, stderr) =>
                        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
                );
                child.stdin!.end(input);
            });
        const ok = await run(texts.map((s) => JSON.stringify(s)).join('\n') + '\n');
        t.equal(ok.code, 0, ok.stderr);
        const lines = ok.stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l));
        const full = await VisionModel.load({ model: pair.model });
        t.same(
            lines,
            texts.map((s) => [...full.tokenize(s, { parseSpecial: false })]),
        );
        await full.close();
        const bad = await run('not json\n');
        t.not(bad.code, 0);
        t.match(bad.stderr, /line 1 is not JSON/);
    },
);
