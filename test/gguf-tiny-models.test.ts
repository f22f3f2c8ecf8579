// The tiny generated test models as files: deterministic, small, named as test models, cached once, inspectable.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';

import {
    GgufType,
    cachedTestModel,
    formatInspect,
    inspectGguf,
    makeTestModel,
    readGgufFile,
    readTensorData,
    testModelCacheDir,
    type TinyFamily,
    type TinyWeightType,
} from '../gguf/index.js';
import { typeOf, val } from './helpers/gguf-fields.js';
import { tempDir } from './helpers/temp-dir.js';

const tmp = tempDir('gguf-tiny-test-');

const FAMILIES: TinyFamily[] = ['llava15', 'onevision'];
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
let dirN = 0;
const fresh = () => path.join(tmp, `m${dirN++}`);

for (const family of FAMILIES) {
    t.test(`${family}: same seed gives byte-identical files, a different seed different weights`, async (t) => {
        const t0 = performance.now();
        const a = await makeTestModel({ family, outDir: fresh(), seed: 7 });
        const ms = performance.now() - t0;
        t.comment(`${family} f16 pair: ${a.bytes} bytes made in ${ms.toFixed(0)} ms`);
        const b = await makeTestModel({ family, outDir: fresh(), seed: 7 });
        t.equal(sha(a.model), sha(b.model), 'model.gguf identical');
        t.equal(sha(a.mmproj), sha(b.mmproj), 'mmproj.gguf identical');
        const c = await makeTestModel({ family, outDir: fresh(), seed: 8 });
        t.not(sha(a.model), sha(c.model), 'model.gguf differs for another seed');
        t.not(sha(a.mmproj), sha(c.mmproj), 'mmproj.gguf differs for another seed');
        t.equal(statSync(a.model).size, statSync(c.model).size, 'same layout, other values');
        const [ha, hc] = [await readGgufFile(a.model), await readGgufFile(c.model)];
        const ta = await readTensorData(a.model, ha.tensors.find((x) => x.name === 'blk.0.attn_q.weight')!);
        const tc = await readTensorData(c.model, hc.tensors.find((x) => x.name === 'blk.0.attn_q.weight')!);
        t.notSame(ta, tc, 'tensor data differs');
    });

    t.test(`${family}: f32/f16/q8_0 pairs are small, q8_0 < f16 < f32, and quick to make`, async (t) => {
        const sizes: Record<string, { model: number; mmproj: number }> = {};
        for (const weightType of ['f32', 'f16', 'q8_0'] as TinyWeightType[]) {
            const t0 = performance.now();
            const p = await makeTestModel({ family, outDir: fresh(), weightType });
            t.comment(`${family} ${weightType}: ${p.bytes} bytes in ${(performance.now() - t0).toFixed(0)} ms`);
            sizes[weightType] = { model: statSync(p.model).size, mmproj: statSync(p.mmproj).size };
            const h = await readGgufFile(p.model);
            t.equal(
                val(h, 'general.file_type'),
                { f32: 0, f16: 1, q8_0: 7 }[weightType],
                `${weightType}: general.file_type`,
            );
            const q = h.tensors.find((x) => x.name === 'blk.0.ffn_up.weight')!;
            t.equal(q.typeName, weightType.toUpperCase(), `${weightType}: matrices stored as ${weightType}`);
            t.equal(h.tensors.find((x) => x.name === 'output_norm.weight')!.typeName, 'F32', 'norms stay F32');
        }
        t.ok(
            sizes.f16.model + sizes.f16.mmproj < 2.5 * 2 ** 20,
            `f16 pair under 2.5 MiB (${sizes.f16.model} + ${sizes.f16.mmproj})`,
        );
        t.ok(sizes.q8_0.model + sizes.q8_0.mmproj < 1.5 * 2 ** 20, 'q8_0 pair under 1.5 MiB');
        t.ok(sizes.f32.model + sizes.f32.mmproj < 5 * 2 ** 20, 'f32 pair under 5 MiB');
        t.ok(sizes.q8_0.model < sizes.f16.model && sizes.f16.model < sizes.f32.model, 'model sizes ordered');
        t.ok(sizes.q8_0.mmproj < sizes.f16.mmproj && sizes.f16.mmproj < sizes.f32.mmproj, 'mmproj sizes ordered');
    });
}

t.test(
    'both files carry general.name, general.architecture, llavaguard.family and llavaguard.test_model',
    async (t) => {
        for (const family of FAMILIES) {
            const p = await makeTestModel({ family, outDir: fresh() });
            const m = await readGgufFile(p.model);
            const v = await readGgufFile(p.mmproj);
            t.equal(val(m, 'general.name'), `llavaguard-tiny-${family}`);
            t.equal(val(m, 'general.architecture'), family === 'llava15' ? 'llama' : 'qwen2');
            t.equal(val(v, 'general.architecture'), 'clip');
            t.match(val(v, 'general.name'), /^llavaguard-tiny-/);
            for (const h of [m, v]) {
                t.equal(val(h, 'llavaguard.family'), family, `${family}: llavaguard.family`);
                t.equal(typeOf(h, 'llavaguard.test_model'), GgufType.BOOL);
                t.equal(val(h, 'llavaguard.test_model'), true);
            }
        }
    },
);

t.test('cachedTestModel makes a pair once in LLAVAGUARD_CACHE and then reuses it', async (t) => {
    const saved = process.env.LLAVAGUARD_CACHE;
    process.env.LLAVAGUARD_CACHE = path.join(tmp, 'cache');
    t.teardown(() => {
        if (saved === undefined) delete process.env.LLAVAGUARD_CACHE;
        else process.env.LLAVAGUARD_CACHE = saved;
    });
    const dir = testModelCacheDir('onevision', { seed: 3, weightType: 'q8_0' });
    t.equal(dir, path.join(tmp, 'cache', 'onevision-3-q8_0'));
    const [a, b, c] = await Promise.all([
        cachedTestModel('onevision', { seed: 3, weightType: 'q8_0' }),
        cachedTestModel('onevision', { seed: 3, weightType: 'q8_0' }),
        cachedTestModel('onevision', { seed: 3, weightType: 'q8_0' }),
    ]);
    t.same(a, { model: path.join(dir, 'model.gguf'), mmproj: path.join(dir, 'mmproj.gguf') });
    t.same(b, a);
    t.same(c, a);
    const ref = await makeTestModel({ family: 'onevision', outDir: fresh(), seed: 3, weightType: 'q8_0' });
    t.equal(sha(a.model), sha(ref.model), 'cached model = freshly made model (concurrent callers did not corrupt it)');
    t.equal(sha(a.mmproj), sha(ref.mmproj));
    const mtime = statSync(a.model).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await cachedTestModel('onevision', { seed: 3, weightType: 'q8_0' });
    t.equal(statSync(a.model).mtimeMs, mtime, 'second call reuses the files');
    writeFileSync(path.join(dir, 'complete.json'), '{"generator":0}');
    await cachedTestModel('onevision', { seed: 3, weightType: 'q8_0' });
    t.not(statSync(a.model).mtimeMs, mtime, 'a stale marker makes it regenerate');
    const def = await cachedTestModel('llava15');
    t.equal(path.basename(path.dirname(def.model)), 'llava15-0-f16', 'defaults: seed 0, f16');
});

t.test('inspectGguf summarises long arrays and formatInspect prints metadata and a tensor table', async (t) => {
    const p = await makeTestModel({ family: 'llava15', outDir: fresh() });
    const info = await inspectGguf(p.model);
    const toks = info.metadata['tokenizer.ggml.tokens'];
    t.equal(toks.type, 'ARRAY[STRING]');
    const v = toks.value as { length: number; items: unknown[]; summary?: string };
    t.match(v.summary, /^\[array of \d+ string\]$/);
    t.same(v.items, ['<unk>', '<s>', '</s>', '<0x00>', '<0x01>'], 'first few items');
    t.equal(
        info.metadata['llama.attention.layer_norm_rms_epsilon'].value,
        1e-5,
        'float32 shown as its shortest decimal',
    );
    t.equal(info.metadata['general.architecture'].value, 'llama');
    t.equal(info.tensors.length, 21);
    const text = formatInspect(info);
    t.match(text, /tokenizer\.ggml\.tokens\s+\[array of \d+ string\] "<unk>", "<s>"/);
    t.match(text, /name\s+type\s+dims\s+bytes/);
    t.match(text, /token_embd\.weight\s+F16\s+\[128, \d+\]\s+\d+/);
    t.match(text, /general\.name\s+"llavaguard-tiny-llava15"/);
    t.same(JSON.parse(JSON.stringify(info)).tensors.length, 21, 'JSON-serialisable');
});
