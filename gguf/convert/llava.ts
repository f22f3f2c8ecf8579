// LlavaForConditionalGeneration (LLaVA-1.5; LlavaGuard v1.0 / v1.1 -hf): LLaMA text model (Q/K rows
// permuted for llama.cpp's rope, as convert_hf_to_gguf.py's LlamaModel does), SentencePiece vocab, CLIP
// ViT tower + 2-layer GELU MLP projector as an `mlp` mmproj. vision_feature_layer -2 means the first
// N-1 of the tower's N blocks: those are written, with block_count = feature_layer = N-1 (as llama.cpp's
// own convert_image_encoder_to_gguf.py does), and post_layernorm (unused by LLaVA) is left out.

import path from 'node:path';

import {
    TensorPlanner,
    findPrefix,
    ignorableVisionTensor,
    planMmproj,
    planTextModel,
    readJsonIf,
    textDims,
    textWriter,
    withDefaults,
    writeAll,
    commonMeta,
    type Json,
    type OutputFile,
    type TextSpec,
} from './common.js';
import type { ConvertContext, ConvertResult } from './context.js';
import { outputPaths } from './context.js';
import { ConvertError } from './safetensors.js';
import { loadSpmVocab } from './tokenizer.js';
import { GgufWriter } from '../writer.js';

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

export function textNames(p: TensorPlanner | undefined): { base: string; lmHead: string } {
    if (!p || p.has('model.language_model.embed_tokens.weight'))
        return { base: 'model.language_model.', lmHead: 'lm_head.weight' };
    if (p.has('language_model.model.embed_tokens.weight'))
        return { base: 'language_model.model.', lmHead: 'language_model.lm_head.weight' };
    throw new ConvertError(
        "missing tensor: no text-model embedding ('model.language_model.embed_tokens.weight' or 'language_model.model.embed_tokens.weight')",
    );
}

export const VISION_PREFIXES = [
    'model.vision_tower.vision_model.',
    'vision_tower.vision_model.',
    'model.vision_tower.',
    'vision_tower.',
];
export const PROJECTOR_PREFIXES = ['model.multi_modal_projector.', 'multi_modal_projector.'];

export function featureLayer(config: Json, fallback: number): number {
    const v = config.vision_feature_layer ?? fallback;
    const one = Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v;
    if (typeof one !== 'number' || !Number.isInteger(one))
        throw new ConvertError(`vision_feature_layer ${JSON.stringify(v)} is not supported (one layer index is)`);
    return one;
}

export function checkProjector(config: Json): void {
    const act = config.projector_hidden_act ?? 'gelu';
    if (act !== 'gelu') throw new ConvertError(`projector_hidden_act '${String(act)}' is not supported (gelu is)`);
    if (config.multimodal_projector_bias === false)
        throw new ConvertError('multimodal_projector_bias = false is not supported');
}

export function meanStd(pre: Json | undefined, mean: number[], std: number[]): { mean: number[]; std: number[] } {
    const m = pre?.image_mean;
    const s = pre?.image_std;
    const ok = (a: unknown): a is number[] =>
        Array.isArray(a) && a.length === 3 && a.every((x) => typeof x === 'number');
    return { mean: ok(m) ? m : mean, std: ok(s) ? s : std };
}

export async function convertLlava(ctx: ConvertContext): Promise<ConvertResult> {
    const cfg = ctx.config;
    const textCfg = withDefaults(cfg.text_config, 'llama', 'text_config');
    const visionCfg = withDefaults(cfg.vision_config, 'clip_vision_model', 'vision_config');
    checkProjector(cfg);
    const strategy = cfg.vision_feature_select_strategy ?? 'default';
    if (strategy !== 'default')
        throw new ConvertError(
            `vision_feature_select_strategy '${String(strategy)}' is not supported for a CLIP tower (llama.cpp drops the class token: 'default')`,
        );
    const p = ctx.st && new TensorPlanner(ctx.st, ctx.outType);
    const spec: TextSpec = { arch: 'llama', cfg: textCfg, names: textNames(p), permute: true, qkvBias: false };
    const d = textDims(spec);
    const vocab = await loadSpmVocab(ctx.dir, d.nVocab, cfg);
    ctx.log(`vocab: ${vocab.tokens.length} tokens from ${vocab.source}`);
    const out = outputPaths(ctx);
    const tw = textWriter(spec, d, ctx.naming, vocab, ctx.hfArch, ctx.outType, ctx.vocabOnly);
    if (ctx.vocabOnly || !p) {
        const [bytes] = await writeAll([{ path: out.model, writer: tw }], ctx.log);
        return {
            hfArch: ctx.hfArch,
            model: out.model,
            bytes: bytes!,
            textArch: 'llama',
            llavaguardVersion: ctx.naming.llavaguardVersion,
        };
    }
    tw.addU32('llavaguard.image_token_index', Number(cfg.image_token_index ?? 32000));
    planTextModel(tw, p, spec, d);

    const mw = new GgufWriter();
    commonMeta(
        mw,
        'clip',
        'mmproj',
        ctx.naming,
        ctx.outType,
        ctx.hfArch,
        `${ctx.naming.name} CLIP vision tower + LLaVA MLP projector`,
    );
    const pre = await readJsonIf(path.join(ctx.dir, 'preprocessor_config.json'));
    const ms = meanStd(pre, CLIP_MEAN, CLIP_STD);
    const base = findPrefix(p, VISION_PREFIXES, 'embeddings.patch_embedding.weight', 'CLIP vision tower');
    const projector = findPrefix(p, PROJECTOR_PREFIXES, 'linear_1.weight', 'multi-modal projector');
    const { blocks } = planMmproj(mw, p, {
        tower: 'clip',
        cfg: visionCfg,
        base,
        projector,
        featureLayer: featureLayer(cfg, -2),
        textEmbd: d.nEmbd,
        imageMean: ms.mean,
        imageStd: ms.std,
        preprocessorConfig: pre,
        extraStrings: { 'llavaguard.vision_feature_select_strategy': String(strategy) },
    });
    p.checkAllUsed(
        (n) =>
            ignorableVisionTensor(n, base, blocks) ||
            n.endsWith('.rotary_emb.inv_freq') ||
            (d.tied && n === spec.names.lmHead),
    );
    const files: OutputFile[] = [
        { path: out.model, writer: tw },
        { path: out.mmproj, writer: mw },
    ];
    const sizes = await writeAll(files, ctx.log);
    return {
        hfArch: ctx.hfArch,
        model: out.model,
        mmproj: out.mmproj,
        bytes: sizes[0]! + sizes[1]!,
        textArch: 'llama',
        llavaguardVersion: ctx.naming.llavaguardVersion,
        visionBlocks: blocks,
    };
}
