// The 7B shape-faithful random models (gguf/synthetic/shapes.ts): LlavaGuard v1.2-7B (OneVision: Qwen2-7B + SigLIP)
// and v1.1-7B (LLaVA-1.5: LLaMA-2-7B + CLIP), checked from the plan without writing their ~8 GB of weights.
import t from 'tap';

import { GgmlType } from '../gguf/index.js';
import { QWEN2_7B_VOCAB_SIZE, QWEN2_VOCAB_SIZE, loadQwen2Vocab } from '../gguf/synthetic/real-vocab.js';
import {
    SHAPED_MODELS,
    planFileSize,
    planParameterCount,
    planShapedModel,
    shapedImageTokensPerTile,
    type GgufFilePlan,
} from '../gguf/synthetic/shapes.js';
import { expectDims, expectMeta, meta, tensor } from './helpers/gguf-plan.js';

t.test("the Qwen2 vocabulary padded to Qwen2-7B's 152,064 embedding rows", async (t) => {
    const v = loadQwen2Vocab(QWEN2_7B_VOCAB_SIZE);
    const small = loadQwen2Vocab();
    t.equal(v.tokens.length, 152064);
    t.equal(v.tokenTypes.length, 152064);
    t.same(v.tokens.slice(0, QWEN2_VOCAB_SIZE), small.tokens, 'the 0.5B vocabulary is its prefix');
    t.equal(v.merges!.length, 151387);
    t.equal(v.tokens[152063], '[PAD152063]');
    t.equal(v.tokenTypes.filter((x) => x === 5).length, 152064 - 151646, 'unused padding');
    t.equal(v.eosId, 151645);
    t.equal(small.tokens.length, QWEN2_VOCAB_SIZE, 'the padded copy leaves the 0.5B one as it was');
    t.throws(() => loadQwen2Vocab(151645), /cannot hold/);
});

t.test(
    "llavaguard-v1.2-7b: Qwen2-7B (untied lm_head) + the 0.5B shape's SigLIP and anyres, only in Q8_0",
    async (t) => {
        t.throws(() => planShapedModel({ shapes: 'llavaguard-v1.2-7b', weightType: 'f16' }), /only as q8_0/);
        const { model: m, mmproj: v } = planShapedModel({ shapes: 'llavaguard-v1.2-7b' });
        expectMeta(t, m, {
            'general.architecture': 'qwen2',
            'qwen2.block_count': 28,
            'qwen2.embedding_length': 3584,
            'qwen2.feed_forward_length': 18944,
            'qwen2.attention.head_count': 28,
            'qwen2.attention.head_count_kv': 4,
            'qwen2.rope.dimension_count': 128,
            'qwen2.context_length': 32768,
            'qwen2.rope.freq_base': 1e6,
            'qwen2.attention.layer_norm_rms_epsilon': 1e-6,
            'qwen2.vocab_size': 152064,
            'tokenizer.ggml.model': 'gpt2',
            'tokenizer.ggml.pre': 'qwen2',
            'tokenizer.ggml.eos_token_id': 151645,
            'general.file_type': 7,
            'llavaguard.shapes': 'llavaguard-v1.2-7b',
        });
        t.equal((meta(m, 'tokenizer.ggml.tokens') as string[]).length, 152064);
        t.equal(
            meta(m, 'tokenizer.chat_template'),
            meta(planShapedModel({ shapes: 'llavaguard-v1.2-0.5b' }).model, 'tokenizer.chat_template'),
        );
        expectDims(t, m, {
            'token_embd.weight': [3584, 152064],
            'output.weight': [3584, 152064],
            'output_norm.weight': [3584],
            'blk.27.attn_q.weight': [3584, 3584],
            'blk.27.attn_k.weight': [3584, 512],
            'blk.27.attn_v.weight': [3584, 512],
            'blk.27.attn_q.bias': [3584],
            'blk.27.attn_k.bias': [512],
            'blk.27.attn_v.bias': [512],
            'blk.27.attn_output.weight': [3584, 3584],
            'blk.27.ffn_gate.weight': [3584, 18944],
            'blk.27.ffn_up.weight': [3584, 18944],
            'blk.27.ffn_down.weight': [18944, 3584],
        });
        t.equal(tensor(m, 'blk.28.attn_q.weight'), undefined);
        t.equal(m.tensors.length, 3 + 28 * 12, 'qwen2 with output.weight');
        t.equal(tensor(m, 'output.weight')!.type, GgmlType.Q8_0);
        t.equal(planParameterCount(m), 7615616512, 'Qwen2-7B: 7.62B parameters including embeddings and lm_head');
        t.equal(await planFileSize(m), 8098523296, 'about 8.1 GB in Q8_0');

        // the vision side is the 0.5B shape's; only the projector's output width (the text model's) differs
        const small = planShapedModel({ shapes: 'llavaguard-v1.2-0.5b' }).mmproj;
        const notProjector = (p: GgufFilePlan) =>
            p.tensors.filter((x) => !x.name.startsWith('mm.') && x.name !== 'v.image_newline');
        t.same(notProjector(v), notProjector(small), 'the same SigLIP tensors');
        for (const key of [
            'clip.vision.image_grid_pinpoints',
            'clip.vision.image_aspect_ratio',
            'clip.vision.block_count',
        ])
            t.strictSame(meta(v, key), meta(small, key), key);
        expectDims(t, v, {
            'mm.0.weight': [1152, 3584],
            'mm.0.bias': [3584],
            'mm.2.weight': [3584, 3584],
            'mm.2.bias': [3584],
            'v.image_newline': [3584],
        });
        t.equal(tensor(v, 'mm.2.weight')!.type, GgmlType.F16);
        t.equal(shapedImageTokensPerTile('llavaguard-v1.2-7b'), 729);
        t.same(SHAPED_MODELS['llavaguard-v1.2-7b'].weightTypes, ['q8_0']);
    },
);

t.test('llavaguard-v1.1-7b: LLaMA-2-7B + CLIP ViT-L/14-336, only in Q8_0', async (t) => {
    t.throws(() => planShapedModel({ shapes: 'llavaguard-v1.1-7b', weightType: 'f16' }), /only as q8_0/);
    t.throws(() => planShapedModel({ shapes: 'nope' as never }), /unknown shapes/);
    const { model: m, mmproj: v } = planShapedModel({ shapes: 'llavaguard-v1.1-7b' });
    expectMeta(t, m, {
        'general.architecture': 'llama',
        'llama.block_count': 32,
        'llama.embedding_length': 4096,
        'llama.attention.head_count_kv': 32,
        'llama.feed_forward_length': 11008,
        'tokenizer.ggml.model': 'llama',
    });
    t.equal((meta(m, 'tokenizer.ggml.scores') as number[]).length, 32000);
    expectDims(t, m, {
        'token_embd.weight': [4096, 32000],
        'output.weight': [4096, 32000],
        'blk.31.ffn_down.weight': [11008, 4096],
        'blk.31.attn_k.weight': [4096, 4096],
    });
    t.equal(tensor(m, 'blk.0.attn_q.bias'), undefined);
    t.equal(m.tensors.length, 3 + 32 * 9);
    t.equal(planParameterCount(m), 6738415616, 'LLaMA-2-7B: 6.74B parameters');
    t.ok((await planFileSize(m)) > 7.1e9, 'about 7.2 GB in Q8_0');

    expectMeta(t, v, {
        'clip.vision.block_count': 24,
        'clip.use_gelu': false, // quick-GELU
        'clip.vision.image_size': 336,
    });
    t.equal(shapedImageTokensPerTile('llavaguard-v1.1-7b'), 576);
    expectDims(t, v, {
        'v.class_embd': [1024],
        'v.position_embd.weight': [1024, 577],
        'v.pre_ln.weight': [1024],
    });
    t.equal(tensor(v, 'v.patch_embd.bias'), undefined);
    expectDims(t, v, {
        'v.blk.23.ffn_down.weight': [1024, 4096],
        'mm.0.weight': [1024, 4096],
        'mm.2.weight': [4096, 4096],
    });
    t.equal(meta(v, 'clip.vision.image_grid_pinpoints'), undefined, 'LLaVA-1.5: no anyres');
    t.same(SHAPED_MODELS['llavaguard-v1.1-7b'].weightTypes, ['q8_0']);
});
