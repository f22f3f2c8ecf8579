// Tiny random Hugging Face-style LLaVA-1.5 / LLaVA-OneVision folders written in TypeScript (config.json,
// *.safetensors, tokenizer files, preprocessor_config.json), for tests of the converter that must run
// without Python. Layouts follow what transformers saves (both tensor namings it has used); the
// vocabularies are the tiny test vocabs of gguf/tiny-vocab.ts (SPM as a tokenizer.model protobuf,
// byte-level BPE as a tokenizer.json).

import { promises as fsp } from 'node:fs';
import path from 'node:path';

import { encodeBF16, encodeF16, encodeF32 } from '../../encode.js';
import { makeRng } from '../tiny-models.js';
import { CHATML_CHAT_TEMPLATE, VICUNA_CHAT_TEMPLATE, makeBpeVocab, makeSpmVocab } from '../tiny-vocab.js';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export interface HfTensor {
    shape: number[];
    data: Float32Array;
    dtype?: SafetensorsDtype;
}

export interface SafetensorsEntry {
    name: string;
    shape: number[];
    dtype: SafetensorsDtype;
}

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * The length prefix + JSON header of a .safetensors file whose data follows in name order (as the
 * Python writer orders same-dtype tensors), padded to 8 bytes; shared by the in-memory writer below
 * and the streaming one of shaped-hf.ts.
 */
export function safetensorsHeader(entries: SafetensorsEntry[]): {
    header: Buffer;
    order: SafetensorsEntry[];
    dataBytes: number;
} {
    const order = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let off = 0;
    for (const e of order) {
        const bytes = e.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[e.dtype];
        header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + bytes] };
        off += bytes;
    }
    let json = JSON.stringify(header);
    while ((8 + Buffer.byteLength(json)) % 8) json += ' ';
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    return { header: Buffer.concat([len, Buffer.from(json)]), order, dataBytes: off };
}

/** Writes one .safetensors file (tensors in name order, header padded to 8 bytes). */
export async function writeSafetensors(
    file: string,
    tensors: Map<string, HfTensor>,
    dtype: SafetensorsDtype = 'F32',
): Promise<void> {
    const entries = [...tensors].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype ?? dtype }));
    const { header, order } = safetensorsHeader(entries);
    const blobs = order.map((e) => {
        const data = tensors.get(e.name)!.data;
        return e.dtype === 'F32' ? encodeF32(data) : e.dtype === 'F16' ? encodeF16(data) : encodeBF16(data);
    });
    await fsp.writeFile(file, Buffer.concat([header, ...blobs]));
}

/** Encodes SentencePiece pieces as a ModelProto (only the `pieces` field). */
export function encodeSentencePieceModel(pieces: Array<{ piece: string; score: number; type: number }>): Buffer {
    const varint = (n: number): number[] => {
        const out: number[] = [];
        while (n >= 0x80) {
            out.push((n & 0x7f) | 0x80);
            n = Math.floor(n / 128);
        }
        out.push(n);
        return out;
    };
    const parts: Buffer[] = [];
    for (const p of pieces) {
        const s = Buffer.from(p.piece, 'utf8');
        const f = Buffer.alloc(4);
        f.writeFloatLE(p.score);
        const msg = Buffer.concat([
            Buffer.from([0x0a, ...varint(s.length)]),
            s,
            Buffer.from([0x15]),
            f,
            Buffer.from([0x18, ...varint(p.type)]),
        ]);
        parts.push(Buffer.from([0x0a, ...varint(msg.length)]), msg);
    }
    return Buffer.concat(parts);
}

export interface TinyHfOptions {
    family: 'llava15' | 'onevision';
    dir: string;
    /** 'legacy': language_model.model.* / vision_tower.* ; 'current': model.language_model.* / lm_head.* */
    naming?: 'legacy' | 'current';
    dtype?: SafetensorsDtype;
    /** > 1: model-0000i-of-0000n.safetensors + model.safetensors.index.json */
    shards?: number;
    seed?: number;
}

export interface TinyHfDims {
    nVocab: number;
    nEmbd: number;
    nHead: number;
    nHeadKv: number;
    nFf: number;
    nLayer: number;
    vEmbd: number;
    vFf: number;
    vLayer: number;
    vHead: number;
    imageSize: number;
    patchSize: number;
}

export const TINY_HF_DIMS: Record<'llava15' | 'onevision', TinyHfDims> = {
    llava15: {
        nVocab: 3008,
        nEmbd: 128,
        nHead: 2,
        nHeadKv: 1,
        nFf: 128,
        nLayer: 1,
        vEmbd: 32,
        vFf: 64,
        vLayer: 2,
        vHead: 1,
        imageSize: 16,
        patchSize: 8,
    },
    onevision: {
        nVocab: 2944,
        nEmbd: 128,
        nHead: 2,
        nHeadKv: 1,
        nFf: 128,
        nLayer: 1,
        vEmbd: 32,
        vFf: 64,
        vLayer: 2,
        vHead: 1,
        imageSize: 14,
        patchSize: 7,
    },
};

/** One checkpoint tensor before it has values: uniform with standard deviation `std` around `mean`. */
export interface HfTensorSpec {
    name: string;
    shape: number[];
    std: number;
    mean: number;
}

export type HfNaming = 'legacy' | 'current';

/** The tensor names of the two namings transformers has used for LLaVA checkpoints. */
export function hfPrefixes(naming: HfNaming): { lm: string; head: string; vt: string; mp: string; newline: string } {
    const legacy = naming === 'legacy';
    return {
        lm: legacy ? 'language_model.model.' : 'model.language_model.',
        head: legacy ? 'language_model.lm_head.weight' : 'lm_head.weight',
        vt: (legacy ? 'vision_tower.' : 'model.vision_tower.') + 'vision_model.',
        mp: legacy ? 'multi_modal_projector.' : 'model.multi_modal_projector.',
        newline: legacy ? 'image_newline' : 'model.image_newline',
    };
}

/**
 * Every tensor a LLaVA-1.5 (LLaMA + CLIP) or LLaVA-OneVision (Qwen2 + SigLIP) checkpoint of these dims
 * stores, with the init scale: 1/sqrt(fan_in) for matrices, ~1 for norm weights. Used by the tiny
 * folders here and by the full-size ones of shaped-hf.ts.
 */
export function hfTensorSpecs(
    family: 'llava15' | 'onevision',
    d: TinyHfDims,
    naming: HfNaming = 'legacy',
): HfTensorSpec[] {
    const ov = family === 'onevision';
    const { lm, head, vt, mp, newline } = hfPrefixes(naming);
    const specs: HfTensorSpec[] = [];
    const rnd = (name: string, shape: number[], std: number, mean = 0) => void specs.push({ name, shape, std, mean });
    const kv = (d.nEmbd / d.nHead) * d.nHeadKv;
    rnd(`${lm}embed_tokens.weight`, [d.nVocab, d.nEmbd], 0.1);
    rnd(`${lm}norm.weight`, [d.nEmbd], 0.05, 1);
    if (!ov) rnd(head, [d.nVocab, d.nEmbd], 0.1);
    const s = 1 / Math.sqrt(d.nEmbd);
    for (let i = 0; i < d.nLayer; i++) {
        const p = `${lm}layers.${i}.`;
        rnd(`${p}input_layernorm.weight`, [d.nEmbd], 0.05, 1);
        rnd(`${p}post_attention_layernorm.weight`, [d.nEmbd], 0.05, 1);
        rnd(`${p}self_attn.q_proj.weight`, [d.nEmbd, d.nEmbd], s);
        rnd(`${p}self_attn.k_proj.weight`, [kv, d.nEmbd], s);
        rnd(`${p}self_attn.v_proj.weight`, [kv, d.nEmbd], s);
        rnd(`${p}self_attn.o_proj.weight`, [d.nEmbd, d.nEmbd], s);
        if (ov) {
            rnd(`${p}self_attn.q_proj.bias`, [d.nEmbd], 0.02);
            rnd(`${p}self_attn.k_proj.bias`, [kv], 0.02);
            rnd(`${p}self_attn.v_proj.bias`, [kv], 0.02);
        }
        rnd(`${p}mlp.gate_proj.weight`, [d.nFf, d.nEmbd], s);
        rnd(`${p}mlp.up_proj.weight`, [d.nFf, d.nEmbd], s);
        rnd(`${p}mlp.down_proj.weight`, [d.nEmbd, d.nFf], 1 / Math.sqrt(d.nFf));
    }
    const E = d.vEmbd;
    const P = d.patchSize;
    // integer division, as transformers and clip.cpp: SigLIP's 384 / 14 -> 27 x 27 patches
    const nPatch = Math.floor(d.imageSize / P) ** 2;
    rnd(`${vt}embeddings.patch_embedding.weight`, [E, 3, P, P], 1 / Math.sqrt(3 * P * P));
    if (ov) rnd(`${vt}embeddings.patch_embedding.bias`, [E], 0.02);
    else {
        rnd(`${vt}embeddings.class_embedding`, [E], 0.1);
        rnd(`${vt}pre_layrnorm.weight`, [E], 0.05, 1);
        rnd(`${vt}pre_layrnorm.bias`, [E], 0.02);
    }
    rnd(`${vt}embeddings.position_embedding.weight`, [nPatch + (ov ? 0 : 1), E], 0.1);
    for (let i = 0; i < d.vLayer; i++) {
        const p = `${vt}encoder.layers.${i}.`;
        for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
            rnd(`${p}self_attn.${n}.weight`, [E, E], 1 / Math.sqrt(E));
            rnd(`${p}self_attn.${n}.bias`, [E], 0.02);
        }
        for (const n of ['layer_norm1', 'layer_norm2']) {
            rnd(`${p}${n}.weight`, [E], 0.05, 1);
            rnd(`${p}${n}.bias`, [E], 0.02);
        }
        rnd(`${p}mlp.fc1.weight`, [d.vFf, E], 1 / Math.sqrt(E));
        rnd(`${p}mlp.fc1.bias`, [d.vFf], 0.02);
        rnd(`${p}mlp.fc2.weight`, [E, d.vFf], 1 / Math.sqrt(d.vFf));
        rnd(`${p}mlp.fc2.bias`, [E], 0.02);
    }
    rnd(`${vt}post_layernorm.weight`, [E], 0.05, 1);
    rnd(`${vt}post_layernorm.bias`, [E], 0.02);
    rnd(`${mp}linear_1.weight`, [d.nEmbd, E], 1 / Math.sqrt(E));
    rnd(`${mp}linear_1.bias`, [d.nEmbd], 0.02);
    rnd(`${mp}linear_2.weight`, [d.nEmbd, d.nEmbd], s);
    rnd(`${mp}linear_2.bias`, [d.nEmbd], 0.02);
    if (ov) rnd(newline, [d.nEmbd], 0.1);
    return specs;
}

/** Writes a tiny HF folder; returns the tensors written (float32 values before dtype rounding). */
export async function makeTinyHfFolder(o: TinyHfOptions): Promise<Map<string, HfTensor>> {
    const { family, dir, naming = 'legacy', dtype = 'F32', shards = 1, seed = 7 } = o;
    const d = TINY_HF_DIMS[family];
    const ov = family === 'onevision';
    const E = d.vEmbd;
    const P = d.patchSize;
    const tensors = new Map<string, HfTensor>();
    for (const t of hfTensorSpecs(family, d, naming)) {
        const n = t.shape.reduce((a, b) => a * b, 1);
        const rng = makeRng(seed, t.name);
        const data = new Float32Array(n);
        const a = t.std * Math.sqrt(3);
        for (let i = 0; i < n; i++) data[i] = t.mean + a * ((rng() / 4294967296) * 2 - 1);
        tensors.set(t.name, { shape: t.shape, data });
    }

    await fsp.mkdir(dir, { recursive: true });
    if (shards <= 1) {
        await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, dtype);
    } else {
        const names = [...tensors.keys()].sort();
        const weightMap: Record<string, string> = {};
        for (let k = 0; k < shards; k++) {
            const file = `model-${String(k + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
            const part = new Map(names.filter((_, i) => i % shards === k).map((n) => [n, tensors.get(n)!]));
            for (const n of part.keys()) weightMap[n] = file;
            await writeSafetensors(path.join(dir, file), part, dtype);
        }
        await fsp.writeFile(
            path.join(dir, 'model.safetensors.index.json'),
            JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2),
        );
    }

    const textConfig = ov
        ? {
              model_type: 'qwen2',
              vocab_size: d.nVocab,
              hidden_size: d.nEmbd,
              intermediate_size: d.nFf,
              num_hidden_layers: d.nLayer,
              num_attention_heads: d.nHead,
              num_key_value_heads: d.nHeadKv,
              max_position_embeddings: 32768,
              rms_norm_eps: 1e-6,
              rope_theta: 1000000,
              tie_word_embeddings: true,
              hidden_act: 'silu',
          }
        : {
              model_type: 'llama',
              vocab_size: d.nVocab,
              hidden_size: d.nEmbd,
              intermediate_size: d.nFf,
              num_hidden_layers: d.nLayer,
              num_attention_heads: d.nHead,
              num_key_value_heads: d.nHeadKv,
              max_position_embeddings: 4096,
              rms_norm_eps: 1e-5,
          };
    const visionConfig = ov
        ? {
              model_type: 'siglip_vision_model',
              hidden_size: E,
              intermediate_size: d.vFf,
              num_hidden_layers: d.vLayer,
              num_attention_heads: d.vHead,
              image_size: d.imageSize,
              patch_size: P,
              hidden_act: 'gelu_pytorch_tanh',
              layer_norm_eps: 1e-6,
          }
        : {
              model_type: 'clip_vision_model',
              hidden_size: E,
              intermediate_size: d.vFf,
              num_hidden_layers: d.vLayer,
              num_attention_heads: d.vHead,
              image_size: d.imageSize,
              patch_size: P,
              hidden_act: 'quick_gelu',
              layer_norm_eps: 1e-5,
              projection_dim: 64,
          };
    const pins = [
        [14, 14],
        [14, 28],
        [28, 14],
        [28, 28],
    ];
    const config = ov
        ? {
              architectures: ['LlavaOnevisionForConditionalGeneration'],
              model_type: 'llava_onevision',
              text_config: textConfig,
              vision_config: visionConfig,
              image_token_index: d.nVocab - 12,
              vision_feature_layer: -1,
              vision_feature_select_strategy: 'full',
              vision_aspect_ratio: 'anyres_max_9',
              image_grid_pinpoints: pins,
              projector_hidden_act: 'gelu',
              tie_word_embeddings: true,
          }
        : {
              architectures: ['LlavaForConditionalGeneration'],
              model_type: 'llava',
              text_config: textConfig,
              vision_config: visionConfig,
              image_token_index: makeSpmVocab().tokens.length,
              vision_feature_layer: -2,
              vision_feature_select_strategy: 'default',
              projector_hidden_act: 'gelu',
          };
    await fsp.writeFile(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
    await fsp.writeFile(
        path.join(dir, 'preprocessor_config.json'),
        JSON.stringify(
            ov
                ? {
                      image_processor_type: 'LlavaOnevisionImageProcessor',
                      size: { height: d.imageSize, width: d.imageSize },
                      image_mean: [0.5, 0.5, 0.5],
                      image_std: [0.5, 0.5, 0.5],
                      image_grid_pinpoints: pins,
                  }
                : {
                      image_processor_type: 'CLIPImageProcessor',
                      size: { shortest_edge: d.imageSize },
                      crop_size: { height: d.imageSize, width: d.imageSize },
                      image_mean: [0.48145466, 0.4578275, 0.40821073],
                      image_std: [0.26862954, 0.26130258, 0.27577711],
                  },
            null,
            2,
        ),
    );

    if (ov) {
        const v = makeBpeVocab();
        const vocab: Record<string, number> = {};
        const added: Array<{ id: number; content: string; special: boolean }> = [];
        v.tokens.forEach((t, i) => {
            if (v.tokenTypes[i] === 3) added.push({ id: i, content: t, special: true });
            else vocab[t] = i;
        });
        added.push({ id: v.tokens.length, content: '<image>', special: true });
        await fsp.writeFile(
            path.join(dir, 'tokenizer.json'),
            JSON.stringify({
                version: '1.0',
                added_tokens: added,
                normalizer: { type: 'NFC' },
                pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
                decoder: { type: 'ByteLevel' },
                model: { type: 'BPE', vocab, merges: v.merges, byte_fallback: false },
            }),
        );
        await fsp.writeFile(
            path.join(dir, 'tokenizer_config.json'),
            JSON.stringify({
                bos_token: null,
                eos_token: '<|im_end|>',
                pad_token: '<|endoftext|>',
                chat_template: CHATML_CHAT_TEMPLATE,
            }),
        );
    } else {
        const v = makeSpmVocab();
        const pieces = v.tokens.map((t, i) => ({ piece: t, score: v.scores![i]!, type: v.tokenTypes[i]! }));
        await fsp.writeFile(path.join(dir, 'tokenizer.model'), encodeSentencePieceModel(pieces));
        await fsp.writeFile(
            path.join(dir, 'tokenizer_config.json'),
            JSON.stringify({
                bos_token: '<s>',
                eos_token: '</s>',
                unk_token: '<unk>',
                add_bos_token: true,
                add_eos_token: false,
                added_tokens_decoder: { [String(v.tokens.length)]: { content: '<image>', special: true } },
            }),
        );
        await fsp.writeFile(
            path.join(dir, 'chat_template.json'),
            JSON.stringify({ chat_template: VICUNA_CHAT_TEMPLATE }),
        );
    }
    return tensors;
}
