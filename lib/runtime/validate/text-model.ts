// The text model's hyper-parameters and tensor shapes, checked against what llama.cpp asserts on or divides by
// for the architectures we load (llama: LLaVA-1.5 / Vicuna; qwen2: LLaVA-OneVision). Line references are to
// deps/llama.cpp at the vendored revision.

import { GgufType, type GgufHeader } from '../../../gguf/types.js';
import { HeaderChecks, requireDivides } from './header-checks.js';
import { checkTensorTypes } from './tensor-types.js';

/** src/llama-hparams.h: LLAMA_MAX_LAYERS (sizes the per-layer arrays). */
export const LLAMA_MAX_LAYERS = 512;
/** The architectures whose load_hparams / graphs these checks follow. */
export const SUPPORTED_TEXT_ARCHITECTURES = ['llama', 'qwen2'] as const;
/** llama-model.cpp: LLAMA_ROPE_SCALING_TYPES (any other string GGML_ASSERTs in load_hparams). */
const ROPE_SCALING_TYPES = ['none', 'linear', 'yarn', 'longrope'];
/** Bound on the vocabulary we accept (the largest in use are ~260k); the reader keeps it all in memory. */
const MAX_VOCAB = 1 << 20;

export interface TextModelShape {
    arch: string;
    nEmbd: number;
    nHead: number;
    nHeadKv: number;
    nLayer: number;
    nFf: number;
    nVocab: number;
}

export function validateTextModel(header: GgufHeader, path: string): TextModelShape {
    const c = new HeaderChecks(header, 'model', path);
    const arch = c.str('general.architecture');
    if (!(SUPPORTED_TEXT_ARCHITECTURES as readonly string[]).includes(arch!)) {
        c.fail(
            `general.architecture '${arch}' is not supported (supported: ${SUPPORTED_TEXT_ARCHITECTURES.join(', ')})`,
        );
    }
    const k = (name: string) => `${arch}.${name}`;

    // llama-model.cpp load_hparams: GGML_ASSERT(n_layer_all > 0 && n_layer_all <= LLAMA_MAX_LAYERS)
    const nLayer = c.u32(k('block_count'), { max: LLAMA_MAX_LAYERS, maxWhy: "llama.cpp's LLAMA_MAX_LAYERS" });
    // load_hparams GGML_ASSERTs n_layer_nextn <= n_layer and the expert counts' relations; our architectures are
    // dense without multi-token prediction, so any non-zero value is a file we cannot run.
    for (const key of [
        'nextn_predict_layers',
        'expert_count',
        'expert_used_count',
        'expert_group_count',
        'expert_group_used_count',
    ]) {
        c.u32(k(key), { optional: true, min: 0, max: 0, maxWhy: `${arch} models are dense, one token per step` });
    }
    // n_ctx_train: the default context and YaRN's original context; 0 makes no usable model.
    c.u32(k('context_length'));
    const nEmbd = c.u32(k('embedding_length'));
    // Scalars only: per-layer arrays (get_key_or_arr) are not used by llama/qwen2 and would need per-layer checks.
    const nHead = c.u32(k('attention.head_count'), { max: nEmbd });
    // n_embd_head = n_embd / n_head; the graphs reshape Q to [n_embd_head, n_head] (ggml_reshape_3d asserts
    // the element count) and qwen2's attn_q is [n_embd, n_embd].
    requireDivides(c, k('attention.head_count'), nHead, k('embedding_length'), nEmbd);
    const nEmbdHead = nEmbd / nHead;
    // n_head_kv defaults to n_head; n_gqa = n_head / n_head_kv and the attention's broadcast mul_mat asserts it.
    const nHeadKv = c.u32(k('attention.head_count_kv'), { optional: true, max: nHead }) ?? nHead;
    requireDivides(c, k('attention.head_count_kv'), nHeadKv, k('attention.head_count'), nHead);
    // models/llama.cpp and models/qwen2.cpp graph(): GGML_ASSERT(n_embd_head == n_embd_head_k) and
    // GGML_ASSERT(n_embd_head == n_rot); load_hparams reads key_length, value_length and rope.dimension_count.
    for (const key of ['attention.key_length', 'attention.value_length', 'rope.dimension_count']) {
        const v = c.u32(k(key), { optional: true, min: 0 });
        if (v !== undefined && v !== nEmbdHead) {
            c.fail(
                `${k(key)} is ${v}, it must equal the head size ${k('embedding_length')} / ${k('attention.head_count')} = ${nEmbdHead}`,
            );
        }
    }
    const nFf = c.u32(k('feed_forward_length'));
    // Required by load_arch_hparams (get_key throws when absent); a non-positive epsilon makes NaNs.
    c.positiveF32(k('attention.layer_norm_rms_epsilon'));
    c.positiveF32(k('rope.freq_base'), true);
    // load_hparams: GGML_ASSERT(rope_scaling_type_train != LLAMA_ROPE_SCALING_TYPE_UNSPECIFIED)
    const scaling = c.str(k('rope.scaling.type'), true);
    if (scaling !== undefined && !ROPE_SCALING_TYPES.includes(scaling)) {
        c.fail(`${k('rope.scaling.type')} '${scaling}' is not one of ${ROPE_SCALING_TYPES.join(', ')}`);
    }

    const nVocab = checkVocab(c, k('vocab_size'));
    // A file without tensors is a vocabulary-only file (convert --vocab-only): loaded in full, llama.cpp
    // refuses it on its first missing tensor, after the hyper-parameters checked above.
    if (header.tensors.length > 0) {
        checkTextTensors(c, { arch: arch!, nEmbd, nHead, nHeadKv, nLayer, nFf, nVocab });
        checkTensorTypes(c);
    }
    return { arch: arch!, nEmbd, nHead, nHeadKv, nLayer, nFf, nVocab };
}

/**
 * llama-vocab.cpp load: token_to_id[word] = i for each token, then GGML_ASSERT(id_to_token.size() ==
 * token_to_id.size()): a token list with a duplicate aborts. An empty token is renamed [EMPTY_<i>] first.
 */
function checkVocab(c: HeaderChecks, vocabSizeKey: string): number {
    const tokens = c.array('tokenizer.ggml.tokens', GgufType.STRING, MAX_VOCAB);
    if (!tokens) c.fail('tokenizer.ggml.tokens is missing');
    if (tokens.length === 0) c.fail('tokenizer.ggml.tokens is empty');
    const seen = new Map<string, number>();
    tokens.forEach((token, i) => {
        const word = token === '' ? `[EMPTY_${i}]` : (token as string);
        const first = seen.get(word);
        if (first !== undefined) {
            c.fail(
                `tokenizer.ggml.tokens holds ${JSON.stringify(word)} twice (ids ${first} and ${i}); tokens must be unique`,
            );
        }
        seen.set(word, i);
    });
    const declared = c.u32(vocabSizeKey, { optional: true });
    if (declared !== undefined && declared !== tokens.length) {
        c.fail(`${vocabSizeKey} is ${declared} but tokenizer.ggml.tokens has ${tokens.length} tokens`);
    }
    return tokens.length;
}

/** The tensors load_arch_tensors creates for llama / qwen2 (models/llama.cpp, models/qwen2.cpp), shape by shape. */
function checkTextTensors(c: HeaderChecks, s: TextModelShape): void {
    const { nEmbd, nHead, nHeadKv, nLayer, nFf, nVocab } = s;
    const nEmbdGqa = (nEmbd / nHead) * nHeadKv;
    const e = `n_embd ${nEmbd}`;
    c.shape('token_embd.weight', [nEmbd, nVocab], `${e}, ${nVocab} tokens`);
    c.shape('output_norm.weight', [nEmbd], e);
    c.shape('output.weight', [nEmbd, nVocab], `${e}, ${nVocab} tokens`, true);
    c.shape('output.bias', [nVocab], `${nVocab} tokens`, true);
    const gqa = `n_embd_gqa ${nEmbdGqa} = n_embd / n_head * n_head_kv`;
    const ff = `${e}, n_ff ${nFf}`;
    for (let i = 0; i < nLayer; i++) {
        const b = `blk.${i}.`;
        c.shape(`${b}attn_norm.weight`, [nEmbd], e);
        // create_tensor_qkv: a fused attn_qkv, else separate q, k, v
        if (c.tensor(`${b}attn_qkv.weight`)) {
            c.shape(`${b}attn_qkv.weight`, [nEmbd, nEmbd + 2 * nEmbdGqa], `${e}, ${gqa}`);
            c.shape(`${b}attn_qkv.bias`, [nEmbd + 2 * nEmbdGqa], gqa, true);
        } else {
            c.shape(`${b}attn_q.weight`, [nEmbd, nEmbd], e);
            c.shape(`${b}attn_k.weight`, [nEmbd, nEmbdGqa], `${e}, ${gqa}`);
            c.shape(`${b}attn_v.weight`, [nEmbd, nEmbdGqa], `${e}, ${gqa}`);
            c.shape(`${b}attn_q.bias`, [nEmbd], e, true);
            c.shape(`${b}attn_k.bias`, [nEmbdGqa], gqa, true);
            c.shape(`${b}attn_v.bias`, [nEmbdGqa], gqa, true);
        }
        c.shape(`${b}attn_output.weight`, [nEmbd, nEmbd], e);
        c.shape(`${b}attn_output.bias`, [nEmbd], e, true);
        c.shape(`${b}ffn_norm.weight`, [nEmbd], e);
        c.shape(`${b}ffn_gate.weight`, [nEmbd, nFf], ff);
        c.shape(`${b}ffn_up.weight`, [nEmbd, nFf], ff);
        c.shape(`${b}ffn_down.weight`, [nFf, nEmbd], ff);
    }
    // The loader counts tensors ("wrong number of tensors"): name the first one no layer accounts for.
    for (const t of c.header.tensors) {
        const m = /^blk\.(\d+)\./.exec(t.name);
        if (m && Number(m[1]) >= nLayer) {
            c.fail(`tensor ${t.name} belongs to a layer past ${s.arch}.block_count (${nLayer})`);
        }
    }
}
