// LlavaOnevisionForConditionalGeneration (LlavaGuard v1.2 OV): Qwen2 text model (q/k/v biases, NeoX rope:
// no permutation), byte-level BPE vocab with merges (pre 'qwen2'), SigLIP tower + MLP projector as an
// `mlp` mmproj with image_grid_pinpoints (llama.cpp's llava-1.6 anyres path) and image_newline stored as
// `v.image_newline` (clip.cpp's TN_IMAGE_NEWLINE; optional and unused by the mlp graph today).
// vision_feature_layer -1 = all N blocks: block_count = feature_layer = N, post_layernorm left out.

import type { ConvertContext, ConvertResult } from './context.js';
import { convertLlavaFamily, type LlavaFamily } from './llava-family.js';
import { ConvertError } from './safetensors.js';
import { loadBpeVocab } from './tokenizer.js';

/** HF pinpoints are [height, width] pairs; clip.cpp reads [width, height]. */
export function flattenPinpoints(v: unknown, where: string): number[] | undefined {
    if (v == null) return undefined;
    if (
        !Array.isArray(v) ||
        !v.every((e) => Array.isArray(e) && e.length === 2 && e.every((x) => Number.isInteger(x) && x > 0))
    ) {
        throw new ConvertError(`${where}: image_grid_pinpoints must be a list of [height, width] pairs`);
    }
    return (v as number[][]).flatMap(([h, w]) => [w!, h!]);
}

const ONEVISION: LlavaFamily = {
    textArch: 'qwen2',
    tower: 'siglip',
    towerName: 'SigLIP',
    strategy: 'full',
    strategyNote: "'full' is",
    featureLayer: -1,
    imageMean: [0.5, 0.5, 0.5],
    imageStd: [0.5, 0.5, 0.5],
    description: 'SigLIP vision tower + LLaVA MLP projector (anyres)',
    async loadVocab(ctx, nVocab) {
        const vocab = await loadBpeVocab(ctx.dir, nVocab, ctx.config, 'qwen2');
        ctx.log(`vocab: ${vocab.tokens.length} tokens, ${vocab.merges?.length ?? 0} merges from ${vocab.source}`);
        return vocab;
    },
    imageTokenIndex: (cfg) => (cfg.image_token_index === undefined ? undefined : Number(cfg.image_token_index)),
    mmprojExtras(ctx, p, pre) {
        const cfg = ctx.config;
        const imageNewline = ['model.image_newline', 'image_newline'].find((n) => p.has(n));
        if (!imageNewline) throw new ConvertError("missing tensor 'image_newline' (or 'model.image_newline')");
        const gridPinpoints = flattenPinpoints(cfg.image_grid_pinpoints ?? pre?.image_grid_pinpoints, 'config.json');
        const extraStrings: Record<string, string> = {};
        if (typeof cfg.vision_aspect_ratio === 'string')
            extraStrings['llavaguard.vision_aspect_ratio'] = cfg.vision_aspect_ratio;
        return { imageNewline, gridPinpoints, extraStrings };
    },
};

export function convertOnevision(ctx: ConvertContext): Promise<ConvertResult> {
    return convertLlavaFamily(ctx, ONEVISION);
}
