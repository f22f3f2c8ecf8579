// `llavaguard convert` without Python: tiny HF-style LLaVA-1.5 / OneVision folders written in TypeScript
// (gguf/synthetic/hf/tiny-hf.ts) convert, load and run in the native addon; bad inputs stop with an error
// that names the problem and leave no file behind.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';

import { convertHfModel, permuteQK } from '../gguf/convert/index.js';
import { TINY_HF_DIMS, makeTinyHfFolder } from '../gguf/synthetic/hf/tiny-hf.js';
import { makeBpeVocab, makeSpmVocab } from '../gguf/synthetic/tiny-vocab.js';
import { decodeF16, decodeF32, readGgufFile, readTensorData, GgmlType, type GgufHeader } from '../gguf/index.js';
import { VisionModel } from '../lib/runtime/VisionModel.js';
import { patternImage } from './helpers/models.js';
import { tempDir } from './helpers/temp-dir.js';

const tmp = tempDir('convert-hf-test-');
let n = 0;
const fresh = (name = 'm') => path.join(tmp, `${name}-${n++}`);
const val = (h: GgufHeader, k: string) => h.metadata.get(k)?.value;
const tensor = (h: GgufHeader, name: string) => h.tensors.find((x) => x.name === name);

async function runModel(model: string, mmproj: string) {
    const m = await VisionModel.load({ model, mmproj, mmprojThreads: 1 });
    try {
        const ctx = await m.createContext({ contextSize: 512, threads: 1 });
        const img = patternImage(40, 30, 3);
        const r = await ctx.evaluate({
            prompt: { text: `USER: ${m.info.mediaMarker}\nIs it safe? ASSISTANT:`, images: [img] },
            logits: true,
        });
        await ctx.close();
        return { model: m, r, hello: Array.from(m.tokenize('Hello world')) };
    } finally {
        await m.close();
    }
}

t.test('LLaVA-1.5 (legacy naming, tokenizer.model) converts to F16 and runs with an image', async (t) => {
    const hf = fresh('LlavaGuard-v1.1-7B-hf-tiny');
    await makeTinyHfFolder({ family: 'llava15', dir: hf, naming: 'legacy', dtype: 'BF16' });
    const out = fresh('out');
    const r = await convertHfModel({ dir: hf, outDir: out, type: 'f16' });
    t.equal(r.textArch, 'llama');
    t.equal(r.llavaguardVersion, '1.1');
    t.equal(r.visionBlocks, 1, 'vision_feature_layer -2 of 2 layers: 1 block');
    t.same(readdirSync(out).sort(), ['mmproj-f16.gguf', 'model-f16.gguf']);
    const h = await readGgufFile(r.model);
    const d = TINY_HF_DIMS.llava15;
    t.equal(val(h, 'general.architecture'), 'llama');
    t.equal(val(h, 'llavaguard.version'), '1.1');
    t.equal(val(h, 'llama.attention.head_count_kv'), 1);
    t.equal(val(h, 'tokenizer.ggml.model'), 'llama');
    t.equal((val(h, 'tokenizer.ggml.tokens') as string[]).length, d.nVocab, 'padded to vocab_size');
    const image = makeSpmVocab().tokens.length; // added after the tokenizer.model's pieces
    t.equal((val(h, 'tokenizer.ggml.tokens') as string[])[image], '<image>');
    t.equal((val(h, 'tokenizer.ggml.token_type') as number[])[image], 3, '<image> is CONTROL');
    t.equal((val(h, 'tokenizer.ggml.tokens') as string[])[image + 7], `[PAD${image + 7}]`);
    t.match(val(h, 'tokenizer.chat_template'), /USER/);
    t.equal(tensor(h, 'blk.0.attn_q.weight')!.type, GgmlType.F16);
    t.equal(tensor(h, 'output_norm.weight')!.type, GgmlType.F32);
    t.ok(tensor(h, 'output.weight'), 'untied lm_head');
    const mh = await readGgufFile(r.mmproj!);
    t.equal(val(mh, 'clip.projector_type'), 'mlp');
    t.equal(val(mh, 'clip.vision.block_count'), 1);
    t.same(val(mh, 'clip.vision.feature_layer'), [1]);
    t.equal(val(mh, 'clip.use_gelu'), false, 'quick_gelu');
    t.ok(tensor(mh, 'v.class_embd') && tensor(mh, 'v.pre_ln.weight'));
    t.notOk(tensor(mh, 'v.blk.1.attn_q.weight'), 'the unused last block is not written');
    t.notOk(
        mh.tensors.some((x) => x.name.includes('post_ln')),
        'post_layernorm is not written',
    );
    t.same(tensor(mh, 'v.patch_embd.weight')!.dims, [8, 8, 3, 32]);

    const { r: ev, hello } = await runModel(r.model, r.mmproj!);
    t.equal(ev.imageTokens, 4, '(16/8)^2 image tokens');
    t.equal(ev.logits!.length, d.nVocab);
    t.ok(ev.logits!.every(Number.isFinite), 'finite logits');
    t.ok(hello.length > 0);
});

t.test('Q/K rows are permuted as llama.cpp does; V is not (F32 from F32)', async (t) => {
    const hf = fresh('llava');
    const src = await makeTinyHfFolder({ family: 'llava15', dir: hf, naming: 'current' });
    const r = await convertHfModel({ dir: hf, outDir: fresh('out'), type: 'f32' });
    const h = await readGgufFile(r.model);
    const d = TINY_HF_DIMS.llava15;
    const get = async (name: string) => decodeF32(await readTensorData(r.model, tensor(h, name)!));
    const q = src.get('model.language_model.layers.0.self_attn.q_proj.weight')!.data;
    const k = src.get('model.language_model.layers.0.self_attn.k_proj.weight')!.data;
    const v = src.get('model.language_model.layers.0.self_attn.v_proj.weight')!.data;
    t.same(await get('blk.0.attn_q.weight'), permuteQK(q, d.nHead, d.nEmbd));
    t.same(await get('blk.0.attn_k.weight'), permuteQK(k, d.nHeadKv, (d.nEmbd / d.nHead) * d.nHeadKv));
    t.same(await get('blk.0.attn_v.weight'), v);
    t.same(await get('output.weight'), src.get('lm_head.weight')!.data, 'current naming: lm_head.weight');
    // permutation of one head of 4 rows [a0 a1 b0 b1] -> [a0 b0 a1 b1]
    t.same(Array.from(permuteQK(Float32Array.from([0, 1, 2, 3]), 1, 4)), [0, 2, 1, 3]);
});

t.test('LLaVA-1.5 (current naming, 2 shards) converts to Q8_0 and runs', async (t) => {
    const hf = fresh('llava');
    await makeTinyHfFolder({ family: 'llava15', dir: hf, naming: 'current', dtype: 'F16', shards: 2 });
    const r = await convertHfModel({ dir: hf, outDir: fresh('out'), type: 'q8_0' });
    const h = await readGgufFile(r.model);
    t.equal(tensor(h, 'blk.0.ffn_up.weight')!.type, GgmlType.Q8_0);
    t.equal(val(h, 'general.file_type'), 7);
    const { r: ev } = await runModel(r.model, r.mmproj!);
    t.ok(ev.logits!.every(Number.isFinite));
});

t.test('OneVision (Qwen2 + SigLIP, anyres, image_newline) converts and runs', async (t) => {
    const hf = fresh('LlavaGuard-v1.2-0.5B-OV-hf-tiny');
    const src = await makeTinyHfFolder({ family: 'onevision', dir: hf, naming: 'legacy', dtype: 'F32' });
    const r = await convertHfModel({ dir: hf, outDir: fresh('out'), type: 'f32' });
    t.equal(r.textArch, 'qwen2');
    t.equal(r.llavaguardVersion, '1.2');
    t.equal(r.visionBlocks, 2, 'vision_feature_layer -1: all blocks');
    const h = await readGgufFile(r.model);
    t.equal(val(h, 'tokenizer.ggml.model'), 'gpt2');
    t.equal(val(h, 'tokenizer.ggml.pre'), 'qwen2');
    t.ok((val(h, 'tokenizer.ggml.merges') as string[]).length > 100);
    t.equal(val(h, 'tokenizer.ggml.eos_token_id'), makeBpeVocab().eosId);
    t.equal(val(h, 'tokenizer.ggml.padding_token_id'), makeBpeVocab().padId);
    t.equal(val(h, 'tokenizer.ggml.add_bos_token'), false);
    t.notOk(tensor(h, 'output.weight'), 'tied embeddings: no output.weight');
    t.ok(tensor(h, 'blk.0.attn_q.bias'));
    const qb = decodeF32(await readTensorData(r.model, tensor(h, 'blk.0.attn_q.weight')!));
    t.same(qb, src.get('language_model.model.layers.0.self_attn.q_proj.weight')!.data, 'qwen2: no permutation');
    const mh = await readGgufFile(r.mmproj!);
    t.same(val(mh, 'clip.vision.image_grid_pinpoints'), [14, 14, 28, 14, 14, 28, 28, 28], '[h, w] pairs -> [w, h]');
    t.same(val(mh, 'clip.vision.image_mean'), [0.5, 0.5, 0.5]);
    t.equal(val(mh, 'clip.use_gelu'), true);
    t.equal(val(mh, 'llavaguard.vision_aspect_ratio'), 'anyres_max_9');
    t.ok(tensor(mh, 'v.image_newline'));
    t.ok(tensor(mh, 'v.patch_embd.bias'));
    t.notOk(tensor(mh, 'v.class_embd'));
    const { r: ev } = await runModel(r.model, r.mmproj!);
    t.ok(ev.imageTokens >= 4);
    t.equal(ev.logits!.length, TINY_HF_DIMS.onevision.nVocab);
    t.ok(ev.logits!.every(Number.isFinite));
});

t.test('--vocab-only writes the tokenizer and hyperparameters, no tensors', async (t) => {
    for (const family of ['llava15', 'onevision'] as const) {
        const hf = fresh(family);
        await makeTinyHfFolder({ family, dir: hf });
        rmSync(path.join(hf, 'model.safetensors')); // not needed
        const out = fresh('out');
        const r = await convertHfModel({ dir: hf, outDir: out, vocabOnly: true });
        t.same(readdirSync(out), ['vocab.gguf']);
        const h = await readGgufFile(r.model);
        t.equal(h.tensors.length, 0);
        t.equal(val(h, 'general.architecture'), family === 'llava15' ? 'llama' : 'qwen2');
        t.equal((val(h, 'tokenizer.ggml.tokens') as string[]).length, TINY_HF_DIMS[family].nVocab);
    }
});

async function expectFailure(
    t: Test,
    mutate: (dir: string) => void | Promise<void>,
    pattern: RegExp,
    family: 'llava15' | 'onevision' = 'llava15',
) {
    const hf = fresh('bad');
    await makeTinyHfFolder({ family, dir: hf });
    await mutate(hf);
    const out = fresh('out');
    await t.rejects(convertHfModel({ dir: hf, outDir: out, type: 'f16' }), pattern);
    t.notOk(
        existsSync(out) && readdirSync(out).length > 0,
        `nothing left in the output folder (${existsSync(out) ? readdirSync(out).join(', ') : 'no folder'})`,
    );
}

/** Rewrites model.safetensors with one header entry changed (data kept). */
function editHeader(
    dir: string,
    edit: (h: Record<string, { shape: number[]; dtype: string; data_offsets: number[] }>) => void,
) {
    const f = path.join(dir, 'model.safetensors');
    const buf = readFileSync(f);
    const len = Number(buf.readBigUInt64LE(0));
    const h = JSON.parse(buf.subarray(8, 8 + len).toString());
    edit(h);
    const base = 8 + len;
    // keep offsets valid: rebuild data in header order from the old offsets
    const names = Object.keys(h).filter((k) => k !== '__metadata__');
    const blobs: Buffer[] = [];
    let off = 0;
    for (const k of names) {
        const [b, e] = h[k].data_offsets;
        const bytes = buf.subarray(base + b, base + e);
        blobs.push(bytes);
        h[k].data_offsets = [off, off + bytes.length];
        off += bytes.length;
    }
    let json = JSON.stringify(h);
    while ((8 + Buffer.byteLength(json)) % 8) json += ' ';
    const l = Buffer.alloc(8);
    l.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    writeFileSync(f, Buffer.concat([l, Buffer.from(json), ...blobs]));
}

t.test('errors name the problem and leave no file', async (t) => {
    await expectFailure(
        t,
        (d) => {
            const c = JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8'));
            c.architectures = ['MllamaForConditionalGeneration'];
            writeFileSync(path.join(d, 'config.json'), JSON.stringify(c));
        },
        /unsupported architecture 'MllamaForConditionalGeneration'/,
    );
    await expectFailure(
        t,
        (d) =>
            editHeader(d, (h) => {
                delete h['language_model.model.layers.0.mlp.up_proj.weight'];
            }),
        /missing tensor 'language_model\.model\.layers\.0\.mlp\.up_proj\.weight'/,
    );
    await expectFailure(
        t,
        (d) =>
            editHeader(d, (h) => {
                const e = h['vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight']!;
                e.shape = [e.shape[1]!, e.shape[0]!];
            }),
        /tensor 'vision_tower\.vision_model\.encoder\.layers\.0\.mlp\.fc1\.weight' has shape \[32, 64\], expected \[64, 32\]/,
    );
    await expectFailure(
        t,
        (d) =>
            editHeader(d, (h) => {
                h['language_model.model.layers.0.self_attn.rotary.extra'] = {
                    ...h['language_model.model.norm.weight']!,
                };
            }),
        /unexpected tensor in the checkpoint: 'language_model\.model\.layers\.0\.self_attn\.rotary\.extra'/,
    );
    await expectFailure(
        t,
        (d) =>
            editHeader(d, (h) => {
                delete h['image_newline'];
            }),
        /missing tensor 'image_newline'/,
        'onevision',
    );
    await expectFailure(
        t,
        (d) => {
            const c = JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8'));
            c.text_config.rope_scaling = { rope_type: 'yarn', factor: 4 };
            writeFileSync(path.join(d, 'config.json'), JSON.stringify(c));
        },
        /rope_scaling .* is not supported/,
    );
});

t.test('a failure while writing the second file removes the first', async (t) => {
    const hf = fresh('late');
    await makeTinyHfFolder({ family: 'llava15', dir: hf });
    const out = fresh('out');
    // the log line announcing the mmproj comes after the text model was written in full
    const log = (line: string) => {
        if (line.includes('mmproj')) throw new Error('injected failure');
    };
    await t.rejects(convertHfModel({ dir: hf, outDir: out, log }), /injected failure/);
    t.same(readdirSync(out), [], 'no model-f16.gguf, no .part / .tmp files');
});

t.test('a truncated checkpoint is rejected before anything is written', async (t) => {
    const hf = fresh('trunc');
    await makeTinyHfFolder({ family: 'llava15', dir: hf });
    const f = path.join(hf, 'model.safetensors');
    const buf = readFileSync(f);
    writeFileSync(f, buf.subarray(0, buf.length - 100));
    const out = fresh('out');
    await t.rejects(convertHfModel({ dir: hf, outDir: out }), /has data_offsets .* that do not fit/);
    t.notOk(existsSync(out), 'no output folder');
});

t.test('F16 source values survive an F16 conversion exactly', async (t) => {
    const hf = fresh('f16');
    await makeTinyHfFolder({ family: 'onevision', dir: hf, dtype: 'F16' });
    const r = await convertHfModel({ dir: hf, outDir: fresh('out'), type: 'f16' });
    const h = await readGgufFile(r.model);
    const { SafetensorsModel } = await import('../gguf/convert/safetensors.js');
    const st = await SafetensorsModel.open(hf);
    const raw = await st.readRaw('language_model.model.layers.0.mlp.up_proj.weight');
    await st.close();
    const ours = await readTensorData(r.model, tensor(h, 'blk.0.ffn_up.weight')!);
    t.ok(Buffer.from(ours).equals(raw), 'F16 bytes identical');
    t.equal(decodeF16(ours).length, 128 * 128);
});
