// The conversion both LLaVA families share (LlavaForConditionalGeneration, LlavaOnevisionForConditionalGeneration):
// config checks, the text model, then the vision tower and projector as an `mlp` mmproj, both files written
// together. A family (llava.ts, onevision.ts) says what differs: its tower, vocabulary and extra mmproj keys.

import path from 'node:path';

import { GgufWriter } from '../writer.js';
import { commonMeta, writeAll } from './common.js';
import { readJsonIf, withDefaults, type Json } from './config.js';
import { outputPaths, type ConvertContext, type ConvertResult } from './context.js';
import { findPrefix, ignorableVisionTensor, planMmproj, type VisionSpec } from './mmproj.js';
import { ConvertError } from './safetensors.js';
import { TensorPlanner } from './tensor-planner.js';
import { planTextModel, textDims, textWriter, type TextSpec } from './text-model.js';
import type { ConvertedVocab } from './tokenizer.js';

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

export interface LlavaFamily {
    textArch: 'llama' | 'qwen2';
    tower: 'clip' | 'siglip';
    /** the tower's name in messages and the mmproj's description */
    towerName: string;
    /** the vision_feature_select_strategy llama.cpp's graph computes, and why another is refused */
    strategy: string;
    strategyNote: string;
    /** HF's default vision_feature_layer */
    featureLayer: number;
    imageMean: number[];
    imageStd: number[];
    /** the mmproj's description after the model's name */
    description: string;
    /** loads (and logs) the vocabulary */
    loadVocab(ctx: ConvertContext, nVocab: number): Promise<ConvertedVocab>;
    imageTokenIndex(config: Json): number | undefined;
    /** what the family adds to the mmproj (checked after the tower and projector are found) */
    mmprojExtras?(ctx: ConvertContext, p: TensorPlanner, pre: Json | undefined): Partial<VisionSpec>;
}

export async function convertLlavaFamily(ctx: ConvertContext, family: LlavaFamily): Promise<ConvertResult> {
    const cfg = ctx.config;
    const textCfg = withDefaults(cfg.text_config, family.textArch, 'text_config');
    const visionCfg = withDefaults(cfg.vision_config, `${family.tower}_vision_model`, 'vision_config');
    checkProjector(cfg);
    const strategy = cfg.vision_feature_select_strategy ?? family.strategy;
    if (strategy !== family.strategy)
        throw new ConvertError(
            `vision_feature_select_strategy '${String(strategy)}' is not supported for a ${family.towerName} tower (${family.strategyNote})`,
        );
    const p = ctx.st && new TensorPlanner(ctx.st, ctx.outType);
    const llama = family.textArch === 'llama';
    const spec: TextSpec = {
        arch: family.textArch,
        cfg: textCfg,
        names: textNames(p),
        permute: llama,
        qkvBias: !llama,
    };
    const d = textDims(spec);
    const vocab = await family.loadVocab(ctx, d.nVocab);
    const out = outputPaths(ctx);
    const tw = textWriter(spec, d, ctx.naming, vocab, ctx.hfArch, ctx.outType, ctx.vocabOnly);
    const result = { hfArch: ctx.hfArch, model: out.model, textArch: family.textArch };
    const llavaguardVersion = ctx.naming.llavaguardVersion;
    if (ctx.vocabOnly || !p) {
        const [bytes] = await writeAll([{ path: out.model, writer: tw }], ctx.log);
        return { ...result, bytes: bytes!, llavaguardVersion };
    }
    const imageToken = family.imageTokenIndex(cfg);
    if (imageToken !== undefined) tw.addU32('llavaguard.image_token_index', imageToken);
    planTextModel(tw, p, spec, d);

    const mw = new GgufWriter();
    commonMeta(mw, 'clip', 'mmproj', ctx.naming, ctx.outType, ctx.hfArch, `${ctx.naming.name} ${family.description}`);
    const pre = await readJsonIf(path.join(ctx.dir, 'preprocessor_config.json'));
    const ms = meanStd(pre, family.imageMean, family.imageStd);
    const base = findPrefix(
        p,
        VISION_PREFIXES,
        'embeddings.patch_embedding.weight',
        `${family.towerName} vision tower`,
    );
    const projector = findPrefix(p, PROJECTOR_PREFIXES, 'linear_1.weight', 'multi-modal projector');
    const extras = family.mmprojExtras?.(ctx, p, pre) ?? {};
    const { blocks } = planMmproj(mw, p, {
        ...extras,
        tower: family.tower,
        cfg: visionCfg,
        base,
        projector,
        featureLayer: featureLayer(cfg, family.featureLayer),
        textEmbd: d.nEmbd,
        imageMean: ms.mean,
        imageStd: ms.std,
        preprocessorConfig: pre,
        extraStrings: { 'llavaguard.vision_feature_select_strategy': String(strategy), ...extras.extraStrings },
    });
    p.checkAllUsed(
        (n) =>
            ignorableVisionTensor(n, base, blocks) ||
            n.endsWith('.rotary_emb.inv_freq') ||
            (d.tied && n === spec.names.lmHead),
    );
    const sizes = await writeAll(
        [
            { path: out.model, writer: tw },
            { path: out.mmproj, writer: mw },
        ],
        ctx.log,
    );
    return { ...result, mmproj: out.mmproj, bytes: sizes[0]! + sizes[1]!, llavaguardVersion, visionBlocks: blocks };
}
