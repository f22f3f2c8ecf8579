// A Hugging Face model folder's JSON files and the config defaults transformers leaves out (it saves
// sub-configs as a diff against these), with the checks that turn config values into numbers.

import { promises as fsp } from 'node:fs';

import { ConvertError } from './safetensors.js';

export type Json = Record<string, unknown>;

export async function readJson(file: string): Promise<Json> {
    let text: string;
    try {
        text = await fsp.readFile(file, 'utf8');
    } catch (error) {
        throw new ConvertError(`cannot read ${file}: ${(error as Error).message}`);
    }
    try {
        return JSON.parse(text) as Json;
    } catch (error) {
        throw new ConvertError(`${file}: not JSON (${(error as Error).message})`);
    }
}

export async function readJsonIf(file: string): Promise<Json | undefined> {
    try {
        await fsp.access(file);
    } catch {
        return undefined;
    }
    return readJson(file);
}

export const DEFAULTS: Record<string, Json> = {
    llama: {
        vocab_size: 32000,
        hidden_size: 4096,
        intermediate_size: 11008,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        hidden_act: 'silu',
        max_position_embeddings: 2048,
        rms_norm_eps: 1e-6,
        tie_word_embeddings: false,
        rope_theta: 10000,
        attention_bias: false,
        mlp_bias: false,
    },
    qwen2: {
        vocab_size: 151936,
        hidden_size: 4096,
        intermediate_size: 22016,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: 32,
        hidden_act: 'silu',
        max_position_embeddings: 32768,
        rms_norm_eps: 1e-6,
        tie_word_embeddings: false,
        rope_theta: 10000,
        use_sliding_window: false,
    },
    // LlavaConfig's default vision tower (CLIP ViT-L/14-336)
    clip_vision_model: {
        hidden_size: 1024,
        intermediate_size: 4096,
        num_hidden_layers: 24,
        num_attention_heads: 16,
        num_channels: 3,
        image_size: 336,
        patch_size: 14,
        hidden_act: 'quick_gelu',
        layer_norm_eps: 1e-5,
        projection_dim: 768,
    },
    // LlavaOnevisionConfig's default vision tower (SigLIP so400m, 26 layers)
    siglip_vision_model: {
        hidden_size: 1152,
        intermediate_size: 4304,
        num_hidden_layers: 26,
        num_attention_heads: 16,
        num_channels: 3,
        image_size: 384,
        patch_size: 14,
        hidden_act: 'gelu_pytorch_tanh',
        layer_norm_eps: 1e-6,
    },
};

export function withDefaults(sub: unknown, modelType: string, where: string): Json {
    const s = (sub ?? {}) as Json;
    const mt = (s.model_type as string | undefined) ?? modelType;
    if (mt !== modelType)
        throw new ConvertError(`${where}.model_type is '${mt}'; this converter handles '${modelType}'`);
    return { ...DEFAULTS[modelType], ...s };
}

export function num(cfg: Json, key: string, where: string): number {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isFinite(v))
        throw new ConvertError(`${where}.${key} is missing or not a number`);
    return v;
}

export function int(cfg: Json, key: string, where: string): number {
    const v = num(cfg, key, where);
    if (!Number.isInteger(v) || v <= 0) throw new ConvertError(`${where}.${key} = ${v} is not a positive integer`);
    return v;
}
