// Tiny random Hugging Face-style LLaVA-1.5 / LLaVA-OneVision folders written in TypeScript (config.json,
// *.safetensors, tokenizer files, preprocessor_config.json), for tests of the converter that must run
// without Python. Layouts follow what transformers saves (both tensor namings it has used); the
// vocabularies are the tiny test vocabs of ../tiny-vocab.ts (SPM as a tokenizer.model protobuf,
// byte-level BPE as a tokenizer.json).

import { promises as fsp } from 'node:fs';
import path from 'node:path';

import { fillUniform, makeRng } from '../rng.js';
import { CHATML_CHAT_TEMPLATE, VICUNA_CHAT_TEMPLATE, makeBpeVocab, makeSpmVocab } from '../tiny-vocab.js';
import {
    encodeSentencePieceModel,
    writeSafetensors,
    type HfTensor,
    type SafetensorsDtype,
} from './safetensors-file.js';
import { hfTensorSpecs, type TinyHfDims } from './tensors.js';

export {
    encodeSentencePieceModel,
    safetensorsHeader,
    writeSafetensors,
    type HfTensor,
    type SafetensorsDtype,
    type SafetensorsEntry,
} from './safetensors-file.js';
export { hfPrefixes, hfTensorSpecs, type HfNaming, type HfTensorSpec, type TinyHfDims } from './tensors.js';

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

// Both families at the same small width; they differ in the vocabulary and the tower's patch grid.
const TINY_HF_SIZES = {
    nEmbd: 128,
    nHead: 2,
    nHeadKv: 1,
    nFf: 128,
    nLayer: 1,
    vEmbd: 32,
    vFf: 64,
    vLayer: 2,
    vHead: 1,
};

export const TINY_HF_DIMS: Record<'llava15' | 'onevision', TinyHfDims> = {
    llava15: { ...TINY_HF_SIZES, nVocab: 3008, imageSize: 16, patchSize: 8 },
    onevision: { ...TINY_HF_SIZES, nVocab: 2944, imageSize: 14, patchSize: 7 },
};

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
        const data = fillUniform(makeRng(seed, t.name), new Float32Array(n), t.std, t.mean);
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

    // transformers' key order: model_type, the sizes, then the rest
    const textSizes = {
        vocab_size: d.nVocab,
        hidden_size: d.nEmbd,
        intermediate_size: d.nFf,
        num_hidden_layers: d.nLayer,
        num_attention_heads: d.nHead,
        num_key_value_heads: d.nHeadKv,
    };
    const textConfig = ov
        ? {
              model_type: 'qwen2',
              ...textSizes,
              max_position_embeddings: 32768,
              rms_norm_eps: 1e-6,
              rope_theta: 1000000,
              tie_word_embeddings: true,
              hidden_act: 'silu',
          }
        : { model_type: 'llama', ...textSizes, max_position_embeddings: 4096, rms_norm_eps: 1e-5 };
    const visionSizes = {
        hidden_size: E,
        intermediate_size: d.vFf,
        num_hidden_layers: d.vLayer,
        num_attention_heads: d.vHead,
        image_size: d.imageSize,
        patch_size: P,
    };
    const visionConfig = ov
        ? { model_type: 'siglip_vision_model', ...visionSizes, hidden_act: 'gelu_pytorch_tanh', layer_norm_eps: 1e-6 }
        : {
              model_type: 'clip_vision_model',
              ...visionSizes,
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
