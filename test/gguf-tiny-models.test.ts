import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';

import {
    GgufType,
    TINY_FAMILIES,
    cachedTestModel,
    decodeF32,
    formatInspect,
    gpt2ByteOrder,
    inspectGguf,
    makeTestModel,
    readGgufFile,
    readTensorData,
    testModelCacheDir,
    tinyImageTokensPerTile,
    type GgufHeader,
    type TinyFamily,
    type TinyWeightType,
} from '../gguf/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gguf-tiny-test-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

const FAMILIES: TinyFamily[] = ['llava15', 'onevision'];
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
let dirN = 0;
const fresh = () => path.join(tmp, `m${dirN++}`);

const val = (h: GgufHeader, k: string) => h.metadata.get(k)?.value;
const typeOf = (h: GgufHeader, k: string) => h.metadata.get(k)?.type;
function arr(h: GgufHeader, k: string): { elemType: number; value: unknown[] } {
    const v = h.metadata.get(k);
    if (!v || v.type !== GgufType.ARRAY) throw new Error(`${k} is not an array`);
    return v;
}

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

t.test('text models hold the hparams llama.cpp requires, with the exact value types it checks', async (t) => {
    for (const family of FAMILIES) {
        const spec = TINY_FAMILIES[family].text;
        const h = await readGgufFile((await makeTestModel({ family, outDir: fresh() })).model);
        const a = spec.arch;
        const u32 = [
            [`${a}.context_length`, spec.contextLength],
            [`${a}.embedding_length`, spec.nEmbd],
            [`${a}.block_count`, spec.nLayer],
            [`${a}.feed_forward_length`, spec.nFf],
            [`${a}.attention.head_count`, spec.nHead],
            [`${a}.attention.head_count_kv`, spec.nHeadKv],
            ['tokenizer.ggml.bos_token_id', undefined],
            ['tokenizer.ggml.eos_token_id', undefined],
        ] as const;
        for (const [k, expected] of u32) {
            t.equal(typeOf(h, k), GgufType.UINT32, `${family}: ${k} is UINT32`);
            if (expected !== undefined) t.equal(val(h, k), expected, `${family}: ${k} = ${expected}`);
        }
        t.equal(typeOf(h, `${a}.attention.layer_norm_rms_epsilon`), GgufType.FLOAT32);
        t.ok((val(h, `${a}.context_length`) as number) >= 4096, 'context_length >= 4096');
        t.equal(spec.nEmbd / spec.nHead, 64, 'head_dim 64');
        t.equal(arr(h, 'tokenizer.ggml.token_type').elemType, GgufType.INT32, 'token_type is INT32[]');
        t.match(val(h, 'tokenizer.chat_template'), family === 'llava15' ? /USER: .*ASSISTANT: /s : /<\|im_start\|>/);
    }
    t.equal(TINY_FAMILIES.llava15.text.nEmbd, 128);
    t.equal(TINY_FAMILIES.onevision.text.nEmbd, 192);
    t.equal(TINY_FAMILIES.onevision.text.nHeadKv, 1);
});

t.test(
    'text models contain exactly the tensors llama.cpp loads for their arch (an extra one fails a load)',
    async (t) => {
        for (const family of FAMILIES) {
            const spec = TINY_FAMILIES[family].text;
            const h = await readGgufFile((await makeTestModel({ family, outDir: fresh() })).model);
            const nVocab = arr(h, 'tokenizer.ggml.tokens').value.length;
            const expected = new Map<string, number[]>([
                ['token_embd.weight', [spec.nEmbd, nVocab]],
                ['output_norm.weight', [spec.nEmbd]],
            ]);
            if (!spec.tiedEmbeddings) expected.set('output.weight', [spec.nEmbd, nVocab]);
            const kv = (spec.nEmbd / spec.nHead) * spec.nHeadKv;
            for (let i = 0; i < spec.nLayer; i++) {
                const p = `blk.${i}`;
                expected.set(`${p}.attn_norm.weight`, [spec.nEmbd]);
                expected.set(`${p}.attn_q.weight`, [spec.nEmbd, spec.nEmbd]);
                expected.set(`${p}.attn_k.weight`, [spec.nEmbd, kv]);
                expected.set(`${p}.attn_v.weight`, [spec.nEmbd, kv]);
                if (spec.qkvBias) {
                    expected.set(`${p}.attn_q.bias`, [spec.nEmbd]);
                    expected.set(`${p}.attn_k.bias`, [kv]);
                    expected.set(`${p}.attn_v.bias`, [kv]);
                }
                expected.set(`${p}.attn_output.weight`, [spec.nEmbd, spec.nEmbd]);
                expected.set(`${p}.ffn_norm.weight`, [spec.nEmbd]);
                expected.set(`${p}.ffn_gate.weight`, [spec.nEmbd, spec.nFf]);
                expected.set(`${p}.ffn_up.weight`, [spec.nEmbd, spec.nFf]);
                expected.set(`${p}.ffn_down.weight`, [spec.nFf, spec.nEmbd]);
            }
            t.same(new Set(h.tensors.map((x) => x.name)), new Set(expected.keys()), `${family}: tensor set`);
            for (const x of h.tensors) t.same(x.dims, expected.get(x.name), `${family}: ${x.name} dims`);
        }
    },
);

t.test(
    'mmprojs: mlp projector whose output width is the own text n_embd, so crossing families mismatches',
    async (t) => {
        const widths: Record<string, { text: number; proj: number }> = {};
        for (const family of FAMILIES) {
            const spec = TINY_FAMILIES[family];
            const p = await makeTestModel({ family, outDir: fresh() });
            const v = await readGgufFile(p.mmproj);
            const byName = new Map(v.tensors.map((x) => [x.name, x]));
            t.equal(val(v, 'clip.projector_type'), 'mlp');
            t.equal(val(v, 'clip.has_vision_encoder'), true);
            for (const k of [
                'image_size',
                'patch_size',
                'embedding_length',
                'feed_forward_length',
                'block_count',
                'projection_dim',
                'attention.head_count',
            ]) {
                t.equal(typeOf(v, `clip.vision.${k}`), GgufType.UINT32, `${family}: clip.vision.${k} is UINT32`);
            }
            t.equal(arr(v, 'clip.vision.image_mean').elemType, GgufType.FLOAT32);
            t.equal(arr(v, 'clip.vision.image_std').elemType, GgufType.FLOAT32);
            const E = spec.vision.nEmbd;
            const P = spec.vision.patchSize;
            const nPatches = (spec.vision.imageSize / P) ** 2;
            t.equal(tinyImageTokensPerTile(family), nPatches);
            t.same(byName.get('v.patch_embd.weight')?.dims, [P, P, 3, E], 'patch_embd [P, P, 3, E]');
            t.same(
                byName.get('v.position_embd.weight')?.dims,
                [E, nPatches + (spec.vision.classEmbedding ? 1 : 0)],
                'position_embd [E, n_pos]',
            );
            t.same(byName.get('mm.0.weight')?.dims, [E, spec.text.nEmbd]);
            t.same(byName.get('mm.2.weight')?.dims, [spec.text.nEmbd, spec.text.nEmbd]);
            t.ok(byName.has('mm.0.bias') && byName.has('mm.2.bias'), 'projector biases');
            for (let i = 0; i < spec.vision.nLayer; i++) {
                for (const n of ['ln1', 'ln2', 'attn_q', 'attn_k', 'attn_v', 'attn_out', 'ffn_up', 'ffn_down']) {
                    t.ok(byName.has(`v.blk.${i}.${n}.weight`) && byName.has(`v.blk.${i}.${n}.bias`), `v.blk.${i}.${n}`);
                }
            }
            t.not(
                byName.get(`v.blk.0.ffn_down.weight`)?.dims[0],
                E,
                "ffn_down's rows differ from n_embd (no up/down swap)",
            );
            t.ok(spec.vision.nLayer >= 2, 'block_count - 1 >= 1 layers run');
            widths[family] = { text: spec.text.nEmbd, proj: byName.get('mm.2.weight')!.dims[1] };
            if (family === 'llava15') {
                t.ok(byName.has('v.class_embd'), 'CLIP: class embedding');
                t.ok(byName.has('v.pre_ln.weight') && byName.has('v.pre_ln.bias'), 'CLIP: pre-layernorm');
                t.equal(val(v, 'clip.use_gelu'), false, 'CLIP: quick-GELU (use_gelu false)');
                t.same(arr(v, 'clip.vision.image_mean').value, [0.48145466, 0.4578275, 0.40821073].map(Math.fround));
                t.same(arr(v, 'clip.vision.image_std').value, [0.26862954, 0.26130258, 0.27577711].map(Math.fround));
                t.notOk(v.metadata.has('clip.vision.image_grid_pinpoints'));
            } else {
                t.notOk(byName.has('v.class_embd'), 'SigLIP: no class embedding');
                t.equal(val(v, 'clip.use_gelu'), true, 'SigLIP: GELU');
                t.same(arr(v, 'clip.vision.image_mean').value, [0.5, 0.5, 0.5]);
                const pins = arr(v, 'clip.vision.image_grid_pinpoints');
                t.equal(pins.elemType, GgufType.INT32, 'pinpoints are INT32[] (what clip.cpp reads)');
                const s = spec.vision.imageSize;
                t.same(pins.value, [s, s, s, 2 * s, 2 * s, s, 2 * s, 2 * s], 'pinpoints are multiples of image_size');
            }
        }
        t.equal(widths.llava15.proj, widths.llava15.text);
        t.equal(widths.onevision.proj, widths.onevision.text);
        t.not(widths.onevision.proj, widths.llava15.text, 'onevision mmproj does not fit the llava15 text model');
    },
);

t.test('llava15 SPM vocab: <unk> <s> </s>, all 256 byte tokens, unique pieces with scores', async (t) => {
    const h = await readGgufFile((await makeTestModel({ family: 'llava15', outDir: fresh() })).model);
    const tokens = arr(h, 'tokenizer.ggml.tokens').value as string[];
    const types = arr(h, 'tokenizer.ggml.token_type').value as number[];
    const scores = arr(h, 'tokenizer.ggml.scores');
    t.equal(val(h, 'tokenizer.ggml.model'), 'llama');
    t.same(tokens.slice(0, 3), ['<unk>', '<s>', '</s>']);
    t.same(types.slice(0, 3), [2, 3, 3]);
    for (let b = 0; b < 256; b++) {
        const id = 3 + b;
        if (tokens[id] !== `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>` || types[id] !== 6) {
            t.fail(`byte token ${b} wrong: ${tokens[id]} type ${types[id]}`);
        }
    }
    t.equal(new Set(tokens).size, tokens.length, 'no duplicate tokens');
    t.ok(tokens.length - 259 >= 200, `${tokens.length - 259} normal pieces`);
    t.equal(scores.elemType, GgufType.FLOAT32);
    t.equal(scores.value.length, tokens.length);
    for (const p of ['▁', '{', '}', '"', ':', ',', '{"', '":', '▁rating', 'Unsafe', '▁Safe', 'a', 'Z', '7']) {
        t.ok(tokens.includes(p), `has piece ${JSON.stringify(p)}`);
    }
    // every multi-character normal piece = a shorter piece + one character (reachable by SPM merges)
    const set = new Set(tokens);
    const unreachable = tokens.filter(
        (x, i) => types[i] === 1 && [...x].length > 1 && !set.has([...x].slice(0, -1).join('')),
    );
    t.same(unreachable, [], 'all pieces reachable');
    t.equal(val(h, 'tokenizer.ggml.bos_token_id'), 1);
    t.equal(val(h, 'tokenizer.ggml.eos_token_id'), 2);
    t.ok(Math.max(...tokens.map((x) => Buffer.byteLength(x))) <= 16, 'bounded piece length');
});

t.test(
    'onevision BPE vocab: GPT-2 byte tokens for all 256 bytes, consistent merges, ChatML control tokens',
    async (t) => {
        const h = await readGgufFile((await makeTestModel({ family: 'onevision', outDir: fresh() })).model);
        const tokens = arr(h, 'tokenizer.ggml.tokens').value as string[];
        const types = arr(h, 'tokenizer.ggml.token_type').value as number[];
        const merges = arr(h, 'tokenizer.ggml.merges').value as string[];
        t.equal(val(h, 'tokenizer.ggml.model'), 'gpt2');
        t.equal(val(h, 'tokenizer.ggml.pre'), 'qwen2');
        const order = gpt2ByteOrder();
        t.same(
            tokens.slice(0, 256),
            order.map(([, c]) => c),
            'first 256 tokens are the byte chars in GPT-2 order',
        );
        t.equal(new Set(order.map(([b]) => b)).size, 256, 'covering every byte');
        t.equal(tokens[order.findIndex(([b]) => b === 0x20)], 'Ġ');
        t.equal(tokens[order.findIndex(([b]) => b === 0x0a)], 'Ċ');
        t.equal(new Set(tokens).size, tokens.length, 'no duplicate tokens');
        t.ok(merges.length >= 200, `${merges.length} merges`);
        const set = new Set(tokens);
        const bad = merges.filter((m) => {
            const [l, r, ...rest] = m.split(' ');
            return rest.length > 0 || !set.has(l) || !set.has(r) || !set.has(l + r);
        });
        t.same(bad, [], 'every merge joins two tokens into a token');
        const id = (s: string) => tokens.indexOf(s);
        for (const s of ['<|endoftext|>', '<|im_start|>', '<|im_end|>'])
            t.equal(types[id(s)], 3, `${s} is a control token`);
        t.equal(val(h, 'tokenizer.ggml.eos_token_id'), id('<|im_end|>'), 'eos = <|im_end|>');
        t.equal(val(h, 'tokenizer.ggml.bos_token_id'), id('<|endoftext|>'));
        t.equal(val(h, 'tokenizer.ggml.add_bos_token'), false);
        for (const p of ['Ġrating', 'Unsafe', '{"', '":', 'Ġ"']) t.ok(set.has(p), `has ${p}`);
    },
);

/** Decoded F32 weights of the f32 variant (for a numeric check of the chosen scales). */
async function weights(file: string) {
    const h = await readGgufFile(file);
    const out = new Map<string, { dims: number[]; w: Float32Array }>();
    for (const x of h.tensors) out.set(x.name, { dims: x.dims, w: decodeF32(await readTensorData(file, x)) });
    return out;
}
function matvec(m: { dims: number[]; w: Float32Array }, x: Float32Array, b?: Float32Array): Float32Array {
    const [cols, rows] = m.dims;
    const y = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
        let s = b ? b[r] : 0;
        for (let c = 0; c < cols; c++) s += m.w[r * cols + c] * x[c];
        y[r] = s;
    }
    return y;
}
const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(0.7978845608 * (v + 0.044715 * v ** 3)));

t.test(
    'weight scales keep activations O(1): patch embedding and projector outputs neither vanish nor explode',
    async (t) => {
        for (const family of FAMILIES) {
            const spec = TINY_FAMILIES[family].vision;
            const w = await weights((await makeTestModel({ family, outDir: fresh(), weightType: 'f32' })).mmproj);
            const P = spec.patchSize;
            // one patch of a normalised image (values in about [-2, 2])
            const patch = Float32Array.from({ length: P * P * 3 }, (_, i) => Math.sin(i * 1.7) * 1.5);
            const pe = w.get('v.patch_embd.weight')!;
            const emb = matvec({ dims: [P * P * 3, spec.nEmbd], w: pe.w }, patch);
            t.ok(rms(emb) > 0.2 && rms(emb) < 5, `${family}: patch embedding rms ${rms(emb).toFixed(3)}`);
            // layer-normed hidden state through the projector
            const x = Float32Array.from({ length: spec.nEmbd }, (_, i) => Math.cos(i * 0.9) * 1.4);
            const h1 = matvec(w.get('mm.0.weight')!, x, w.get('mm.0.bias')!.w).map(gelu);
            const out = matvec(w.get('mm.2.weight')!, h1, w.get('mm.2.bias')!.w);
            t.ok(rms(out) > 0.05 && rms(out) < 5, `${family}: projector output rms ${rms(out).toFixed(3)}`);
            const x2 = Float32Array.from({ length: spec.nEmbd }, (_, i) => Math.sin(i * 2.3) * 1.4);
            const out2 = matvec(
                w.get('mm.2.weight')!,
                matvec(w.get('mm.0.weight')!, x2, w.get('mm.0.bias')!.w).map(gelu),
                w.get('mm.2.bias')!.w,
            );
            const diff = rms(out.map((v, i) => v - out2[i]));
            t.ok(diff > 0.05, `${family}: different inputs give different embeddings (rms diff ${diff.toFixed(3)})`);
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
