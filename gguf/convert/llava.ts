// LlavaForConditionalGeneration (LLaVA-1.5; LlavaGuard v1.0 / v1.1 -hf): LLaMA text model (Q/K rows
// permuted for llama.cpp's rope, as convert_hf_to_gguf.py's LlamaModel does), SentencePiece vocab, CLIP
// ViT tower + 2-layer GELU MLP projector as an `mlp` mmproj. vision_feature_layer -2 means the first
// N-1 of the tower's N blocks: those are written, with block_count = feature_layer = N-1 (as llama.cpp's
// own convert_image_encoder_to_gguf.py does), and post_layernorm (unused by LLaVA) is left out.

import type { ConvertContext, ConvertResult } from './context.js';
import { convertLlavaFamily, type LlavaFamily } from './llava-family.js';
import { loadSpmVocab } from './tokenizer.js';

export {
    PROJECTOR_PREFIXES,
    VISION_PREFIXES,
    checkProjector,
    featureLayer,
    meanStd,
    textNames,
} from './llava-family.js';

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

const LLAVA15: LlavaFamily = {
    textArch: 'llama',
    tower: 'clip',
    towerName: 'CLIP',
    strategy: 'default',
    strategyNote: "llama.cpp drops the class token: 'default'",
    featureLayer: -2,
    imageMean: CLIP_MEAN,
    imageStd: CLIP_STD,
    description: 'CLIP vision tower + LLaVA MLP projector',
    async loadVocab(ctx, nVocab) {
        const vocab = await loadSpmVocab(ctx.dir, nVocab, ctx.config);
        ctx.log(`vocab: ${vocab.tokens.length} tokens from ${vocab.source}`);
        return vocab;
    },
    imageTokenIndex: (cfg) => Number(cfg.image_token_index ?? 32000),
};

export function convertLlava(ctx: ConvertContext): Promise<ConvertResult> {
    return convertLlavaFamily(ctx, LLAVA15);
}
