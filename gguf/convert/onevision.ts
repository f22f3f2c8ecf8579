// LlavaOnevisionForConditionalGeneration (LlavaGuard v1.2 OV): Qwen2 text model (q/k/v biases, NeoX rope:
// no permutation), byte-level BPE vocab with merges (pre 'qwen2'), SigLIP tower + MLP projector as an
// `mlp` mmproj with image_grid_pinpoints (llama.cpp's llava-1.6 anyres path) and image_newline stored as
// `v.image_newline` (clip.cpp's TN_IMAGE_NEWLINE; optional and unused by the mlp graph today).
// vision_feature_layer -1 = all N blocks: block_count = feature_layer = N, post_layernorm left out.

import path from 'node:path';

import {
    TensorPlanner,
    commonMeta,
    findPrefix,
    ignorableVisionTensor,
    planMmproj,
    planTextModel,
    readJsonIf,
    textDims,
    textWriter,
    withDefaults,
    writeAll,
    type OutputFile,
    type TextSpec,
} from './common.js';
import type { ConvertContext, ConvertResult } from './context.js';
import { outputPaths } from './context.js';
import { PROJECTOR_PREFIXES, VISION_PREFIXES, checkProjector, featureLayer, meanStd, textNames } from './llava.js';
import { ConvertError } from './safetensors.js';
import { loadBpeVocab } from './tokenizer.js';
import { GgufWriter } from '../writer.js';

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

export async function convertOnevision(ctx: ConvertContext): Promise<ConvertResult> {
    const cfg = ctx.config;
    const textCfg = withDefaults(cfg.text_config, 'qwen2', 'text_config');
    const visionCfg = withDefaults(cfg.vision_config, 'siglip_vision_model', 'vision_config');
    checkProjector(cfg);
    const strategy = cfg.vision_feature_select_strategy ?? 'full';
    if (strategy !== 'full')
        throw new ConvertError(
            `vision_feature_select_strategy '${String(strategy)}' is not supported for a SigLIP tower ('full' is)`,
        );
    const p = ctx.st && new TensorPlanner(ctx.st, ctx.outType);
    const spec: TextSpec = { arch: 'qwen2', cfg: textCfg, names: textNames(p), permute: false, qkvBias: true };
    const d = textDims(spec);
    const vocab = await loadBpeVocab(ctx.dir, d.nVocab, cfg, 'qwen2');
    ctx.log(`vocab: ${vocab.tokens.length} tokens, ${vocab.merges?.length ?? 0} merges from ${vocab.source}`);
    const out = outputPaths(ctx);
    const tw = textWriter(spec, d, ctx.naming, vocab, ctx.hfArch, ctx.outType, ctx.vocabOnly);
    if (ctx.vocabOnly || !p) {
        const [bytes] = await writeAll([{ path: out.model, writer: tw }], ctx.log);
        return {
            hfArch: ctx.hfArch,
            model: out.model,
            bytes: bytes!,
            textArch: 'qwen2',
            llavaguardVersion: ctx.naming.llavaguardVersion,
        };
    }
    if (cfg.image_token_index !== undefined) tw.addU32('llavaguard.image_token_index', Number(cfg.image_token_index));
    planTextModel(tw, p, spec, d);

    const mw = new GgufWriter();
    commonMeta(
        mw,
        'clip',
        'mmproj',
        ctx.naming,
        ctx.outType,
        ctx.hfArch,
        `${ctx.naming.name} SigLIP vision tower + LLaVA MLP projector (anyres)`,
    );
    const pre = await readJsonIf(path.join(ctx.dir, 'preprocessor_config.json'));
    const ms = meanStd(pre, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    const base = findPrefix(p, VISION_PREFIXES, 'embeddings.patch_embedding.weight', 'SigLIP vision tower');
    const projector = findPrefix(p, PROJECTOR_PREFIXES, 'linear_1.weight', 'multi-modal projector');
    const newline = ['model.image_newline', 'image_newline'].find((n) => p.has(n));
    if (!newline) throw new ConvertError("missing tensor 'image_newline' (or 'model.image_newline')");
    const pins = flattenPinpoints(cfg.image_grid_pinpoints ?? pre?.image_grid_pinpoints, 'config.json');
    const extra: Record<string, string> = { 'llavaguard.vision_feature_select_strategy': String(strategy) };
    if (typeof cfg.vision_aspect_ratio === 'string') extra['llavaguard.vision_aspect_ratio'] = cfg.vision_aspect_ratio;
    const { blocks } = planMmproj(mw, p, {
        tower: 'siglip',
        cfg: visionCfg,
        base,
        projector,
        imageNewline: newline,
        featureLayer: featureLayer(cfg, -1),
        textEmbd: d.nEmbd,
        imageMean: ms.mean,
        imageStd: ms.std,
        gridPinpoints: pins,
        preprocessorConfig: pre,
        extraStrings: extra,
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
        textArch: 'qwen2',
        llavaguardVersion: ctx.naming.llavaguardVersion,
        visionBlocks: blocks,
    };
}
