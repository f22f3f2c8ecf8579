// The shape-faithful random models (gguf/synthetic/shapes.ts): exact tensor shapes, metadata and vocabularies of the real
// LlavaGuard models, checked from the plan and from a header-only (sparse) file, without writing the weights. The
// 0.5B shape and the generator here; the 7B shapes in gguf-shapes-7b.test.ts.
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';

import {
    GgmlType,
    GgufType,
    decodeF32,
    dequantizeQ8_0,
    metaValue,
    readGgufFile,
    readTensorData,
} from '../gguf/index.js';
import { makeRng } from '../gguf/synthetic/rng.js';
import { LLAMA2_VOCAB_SIZE, QWEN2_VOCAB_SIZE, loadLlama2Vocab, loadQwen2Vocab } from '../gguf/synthetic/real-vocab.js';
import {
    planFileSize,
    planHeader,
    planParameterCount,
    planShapedModel,
    shapedImageTokensPerTile,
    writePlannedFile,
    type GgufFilePlan,
} from '../gguf/synthetic/shapes.js';
import { dims, expectDims, expectMeta, meta, tensor } from './helpers/gguf-plan.js';
import { tempDir } from './helpers/temp-dir.js';

const tmp = tempDir('gguf-shapes-test-');

t.test('the Qwen2 vocabulary: 151,936 entries laid out as the GGUF conversions have it', async (t) => {
    const v = loadQwen2Vocab();
    t.equal(v.tokens.length, QWEN2_VOCAB_SIZE);
    t.equal(v.tokenTypes.length, 151936);
    t.equal(v.merges!.length, 151387, 'Qwen2 BPE merges');
    t.equal(v.tokens[151643], '<|endoftext|>');
    t.equal(v.tokens[151644], '<|im_start|>');
    t.equal(v.tokens[151645], '<|im_end|>');
    t.equal(v.tokens[151646], '[PAD151646]');
    t.equal(v.tokens[151935], '[PAD151935]');
    t.equal(v.eosId, 151645, 'eos <|im_end|>');
    t.equal(v.bosId, 151643);
    const count = (type: number) => v.tokenTypes.filter((x) => x === type).length;
    t.equal(count(1), 151643, 'normal tokens');
    t.equal(count(3), 3, 'control tokens');
    t.equal(count(5), 151936 - 151646, 'unused padding');
    t.equal(v.tokens[0], '!', 'GPT-2 byte order starts at "!"');
    t.equal(v.tokens[220], '\u0120', 'the space byte (Ġ)');
    t.equal(v.merges![0], '\u0120 \u0120', 'first merge "Ġ Ġ"');
    t.equal(new Set(v.tokens).size, v.tokens.length, 'tokens are unique');
});

t.test('the LLaMA-2 vocabulary: 32,000 SentencePiece pieces with scores and byte tokens', async (t) => {
    const v = loadLlama2Vocab();
    t.equal(v.tokens.length, LLAMA2_VOCAB_SIZE);
    t.equal(v.scores!.length, 32000);
    t.same(v.tokens.slice(0, 4), ['<unk>', '<s>', '</s>', '<0x00>']);
    t.equal(v.tokens[258], '<0xFF>');
    t.same(v.tokenTypes.slice(0, 4), [2, 3, 3, 6]);
    t.equal(v.tokenTypes.filter((x) => x === 6).length, 256, 'BYTE tokens');
    t.equal(v.tokens[261], '\u2581t');
    t.ok(v.scores![261] === 0, '"▁t" is the first merge (score 0)');
    t.ok(v.scores![262]! < v.scores![261]!, 'scores fall with the merge rank');
    t.ok(v.scores![259]! < v.scores![5000]!, '"▁▁" merges late, as in the HF merge order');
    t.ok(v.scores![31999]! < v.scores![259]!, 'single characters score below every merge');
    t.equal(v.bosId, 1);
    t.equal(v.eosId, 2);
});

t.test('llavaguard-v1.2-0.5b text model: Qwen2-0.5B shapes and metadata', async (t) => {
    const plan = planShapedModel({ shapes: 'llavaguard-v1.2-0.5b', weightType: 'q8_0' });
    const m = plan.model;
    expectMeta(t, m, {
        'general.architecture': 'qwen2',
        'qwen2.block_count': 24,
        'qwen2.embedding_length': 896,
        'qwen2.feed_forward_length': 4864,
        'qwen2.attention.head_count': 14,
        'qwen2.attention.head_count_kv': 2,
        'qwen2.context_length': 32768,
        'qwen2.rope.freq_base': 1e6,
        'qwen2.attention.layer_norm_rms_epsilon': 1e-6,
        'tokenizer.ggml.model': 'gpt2',
        'tokenizer.ggml.pre': 'qwen2',
    });
    t.equal((meta(m, 'tokenizer.ggml.tokens') as string[]).length, 151936);
    t.equal((meta(m, 'tokenizer.ggml.token_type') as number[]).length, 151936);
    t.equal((meta(m, 'tokenizer.ggml.merges') as string[]).length, 151387);
    t.equal(meta(m, 'tokenizer.ggml.eos_token_id'), 151645);
    t.equal(meta(m, 'tokenizer.ggml.add_bos_token'), false);
    t.match(String(meta(m, 'tokenizer.chat_template')), /<\|im_start\|>system\\nYou are a helpful assistant\./);
    t.equal(meta(m, 'general.file_type'), 7, 'MOSTLY_Q8_0');
    t.equal(meta(m, 'llavaguard.test_model'), true);

    t.same(dims(m, 'token_embd.weight'), [896, 151936]);
    t.equal(tensor(m, 'output.weight'), undefined, 'tied embeddings: no output.weight');
    t.same(dims(m, 'output_norm.weight'), [896]);
    for (const i of [0, 23]) {
        const p = `blk.${i}`;
        expectDims(t, m, {
            [`${p}.attn_q.weight`]: [896, 896],
            [`${p}.attn_k.weight`]: [896, 128],
            [`${p}.attn_v.weight`]: [896, 128],
            [`${p}.attn_q.bias`]: [896],
            [`${p}.attn_k.bias`]: [128],
            [`${p}.attn_v.bias`]: [128],
            [`${p}.attn_output.weight`]: [896, 896],
            [`${p}.ffn_gate.weight`]: [896, 4864],
            [`${p}.ffn_up.weight`]: [896, 4864],
            [`${p}.ffn_down.weight`]: [4864, 896],
            [`${p}.attn_norm.weight`]: [896],
            [`${p}.ffn_norm.weight`]: [896],
        });
    }
    t.equal(tensor(m, 'blk.24.attn_q.weight'), undefined);
    t.equal(m.tensors.length, 2 + 24 * 12, 'exactly the tensors llama.cpp expects for qwen2');
    t.equal(planParameterCount(m), 494032768, 'Qwen2-0.5B: 494M parameters including the embeddings');
    t.equal(tensor(m, 'blk.0.ffn_down.weight')!.type, GgmlType.Q8_0);
    t.equal(tensor(m, 'token_embd.weight')!.type, GgmlType.Q8_0);
    t.equal(tensor(m, 'blk.0.attn_q.bias')!.type, GgmlType.F32);
    t.equal(tensor(m, 'blk.0.attn_norm.weight')!.init.mean, 1, 'norm weights are 1');

    const f16 = planShapedModel({ shapes: 'llavaguard-v1.2-0.5b', weightType: 'f16' });
    t.equal(tensor(f16.model, 'blk.0.ffn_down.weight')!.type, GgmlType.F16);
    t.equal(meta(f16.model, 'general.file_type'), 1);
});

t.test(
    'llavaguard-v1.2-0.5b mmproj: SigLIP so400m-patch14-384 + mlp 1152 -> 896 -> 896, OneVision anyres',
    async (t) => {
        const { mmproj: v } = planShapedModel({ shapes: 'llavaguard-v1.2-0.5b' });
        expectMeta(t, v, {
            'general.architecture': 'clip',
            'clip.projector_type': 'mlp',
            'clip.has_vision_encoder': true,
            'clip.has_llava_projector': true,
            'clip.vision.block_count': 27,
            'clip.vision.embedding_length': 1152,
            'clip.vision.feed_forward_length': 4304,
            'clip.vision.attention.head_count': 16,
            'clip.vision.image_size': 384,
            'clip.vision.patch_size': 14,
            'clip.vision.attention.layer_norm_epsilon': 1e-6,
            'clip.use_gelu': true,
            'clip.vision.image_mean': [0.5, 0.5, 0.5],
            'clip.vision.image_std': [0.5, 0.5, 0.5],
            'clip.vision.mm_patch_merge_type': 'spatial_unpad',
            'clip.vision.image_aspect_ratio': 'anyres_max_9',
        });
        const pins = meta(v, 'clip.vision.image_grid_pinpoints') as number[];
        t.equal(pins.length, 72, '36 pinpoints');
        t.equal(v.metadata.find((m) => m.key === 'clip.vision.image_grid_pinpoints')!.elemType, GgufType.INT32);
        const pairs = new Set<string>();
        for (let i = 0; i < pins.length; i += 2) pairs.add(`${pins[i]}x${pins[i + 1]}`);
        const sides = [384, 768, 1152, 1536, 1920, 2304];
        t.same(
            [...pairs].sort(),
            sides.flatMap((w) => sides.map((h) => `${w}x${h}`)).sort(),
            'all [w, h] with w, h in 384..2304',
        );

        t.equal(shapedImageTokensPerTile('llavaguard-v1.2-0.5b'), 729);
        t.same(dims(v, 'v.patch_embd.weight'), [14, 14, 3, 1152]);
        t.same(dims(v, 'v.patch_embd.bias'), [1152]);
        t.same(dims(v, 'v.position_embd.weight'), [1152, 729], '27 x 27 patches, no class position');
        t.equal(tensor(v, 'v.class_embd'), undefined, 'SigLIP has no class embedding');
        t.equal(tensor(v, 'v.pre_ln.weight'), undefined, 'nor a pre-layernorm');
        t.equal(tensor(v, 'v.post_ln.weight'), undefined, 'the llava converter drops the post-layernorm');
        for (const i of [0, 26]) {
            const p = `v.blk.${i}`;
            for (const n of ['attn_q', 'attn_k', 'attn_v', 'attn_out']) {
                t.same(dims(v, `${p}.${n}.weight`), [1152, 1152]);
                t.same(dims(v, `${p}.${n}.bias`), [1152]);
            }
            // legacy converter names: fc1 (1152 -> 4304) is ffn_down, fc2 is ffn_up; clip.cpp swaps them back
            expectDims(t, v, {
                [`${p}.ffn_down.weight`]: [1152, 4304],
                [`${p}.ffn_up.weight`]: [4304, 1152],
                [`${p}.ln1.weight`]: [1152],
                [`${p}.ln2.bias`]: [1152],
            });
        }
        t.equal(tensor(v, 'v.blk.27.attn_q.weight'), undefined);
        expectDims(t, v, {
            'mm.0.weight': [1152, 896],
            'mm.0.bias': [896],
            'mm.2.weight': [896, 896],
            'mm.2.bias': [896],
        });
        t.equal(tensor(v, 'mm.0.weight')!.type, GgmlType.F16);
        t.equal(tensor(v, 'v.patch_embd.weight')!.type, GgmlType.F16);
        const params = planParameterCount(v);
        t.ok(params > 410e6 && params < 420e6, `SigLIP so400m (27 blocks) + projector: ${params}`);

        // a Q8_0 mmproj keeps the 4304-long rows in F16 (not a multiple of 32)
        const q = planShapedModel({ shapes: 'llavaguard-v1.2-0.5b', mmprojWeightType: 'q8_0' }).mmproj;
        t.equal(tensor(q, 'v.blk.0.ffn_down.weight')!.type, GgmlType.Q8_0);
        t.equal(tensor(q, 'v.blk.0.ffn_up.weight')!.type, GgmlType.F16);
    },
);

t.test(
    'the planned header is a valid GGUF whose tensor table matches the plan (sparse file, no weights)',
    async (t) => {
        const plan = planShapedModel({ shapes: 'llavaguard-v1.2-0.5b' });
        for (const file of [plan.model, plan.mmproj]) {
            const header = await planHeader(file);
            const size = await planFileSize(file);
            const p = path.join(tmp, `${file.what}.gguf`);
            const fh = await open(p, 'w');
            await fh.write(header, 0, header.byteLength, 0);
            await fh.truncate(size); // sparse: the data section reads as zeros and takes no disk
            await fh.close();
            t.equal(statSync(p).size, size);
            const h = await readGgufFile(p, { maxArrayValues: 16 });
            t.equal(h.tensors.length, file.tensors.length);
            t.equal(h.dataOffset, header.byteLength);
            for (const [i, pt] of file.tensors.entries()) {
                const ht = h.tensors[i]!;
                if (
                    ht.name !== pt.name ||
                    ht.dims.join() !== pt.dims.join() ||
                    ht.type !== pt.type ||
                    ht.nbytes !== pt.nbytes
                ) {
                    t.fail(`tensor ${i}: ${ht.name} [${ht.dims}] differs from the plan's ${pt.name} [${pt.dims}]`);
                }
            }
            t.equal(metaValue(h, 'general.architecture'), file.what === 'model' ? 'qwen2' : 'clip');
            if (file.what === 'model') {
                const tokens = h.metadata.get('tokenizer.ggml.tokens');
                t.equal(tokens?.type === GgufType.ARRAY ? tokens.length : -1, 151936);
            }
        }
        t.equal(await planFileSize(plan.model), 531065888, 'Q8_0 text model: 506 MiB');
        t.equal(await planFileSize(plan.mmproj), 830471488, 'F16 mmproj (with image_newline): 792 MiB');
    },
);

t.test(
    'streaming writer: chunked generation gives the same values as one stream, and the file reads back',
    async (t) => {
        const n = 32 * 140_000; // more than one 4M-value chunk
        const plan: GgufFilePlan = {
            what: 'model',
            metadata: [{ key: 'general.architecture', type: GgufType.STRING, value: 'test' }],
            tensors: [
                {
                    name: 'a.weight',
                    dims: [32, 140_000],
                    type: GgmlType.Q8_0,
                    typeName: 'Q8_0',
                    nElements: n,
                    nbytes: (n / 32) * 34,
                    init: { std: 0.5, mean: 0 },
                },
                {
                    name: 'b.weight',
                    dims: [7],
                    type: GgmlType.F32,
                    typeName: 'F32',
                    nElements: 7,
                    nbytes: 28,
                    init: { std: 0, mean: 1 },
                },
                {
                    name: 'c.weight',
                    dims: [3, 5],
                    type: GgmlType.F16,
                    typeName: 'F16',
                    nElements: 15,
                    nbytes: 30,
                    init: { std: 0.1, mean: 2 },
                },
            ],
        };
        const file = path.join(tmp, 'stream.gguf');
        const bytes = await writePlannedFile(plan, file, 7);
        t.equal(bytes, statSync(file).size);
        t.equal(bytes, await planFileSize(plan));
        const h = await readGgufFile(file);
        const a = dequantizeQ8_0(await readTensorData(file, h.tensors[0]!));
        const rng = makeRng(7, 'a.weight');
        const lim = 0.5 * Math.sqrt(3);
        let maxErr = 0;
        for (let i = 0; i < n; i++) {
            const want = lim * ((rng() / 4294967296) * 2 - 1);
            maxErr = Math.max(maxErr, Math.abs(a[i]! - want));
        }
        t.ok(maxErr < lim / 127 + 1e-3, `Q8_0 values follow one rng stream across chunks (max error ${maxErr})`);
        const b = decodeF32(await readTensorData(file, h.tensors[1]!));
        t.same(Array.from(b), [1, 1, 1, 1, 1, 1, 1]);
        t.equal(h.tensors[2]!.dims.join(), '3,5');
    },
);
