// `llavaguard convert`: a Hugging Face LLaVA-1.5 / LLaVA-OneVision folder -> a llama.cpp text-model GGUF
// + an `mlp` mmproj GGUF (or, with vocabOnly, the tokenizer and hyperparameters alone).

import path from 'node:path';

import { modelNaming } from './common.js';
import { readJson } from './config.js';
import type { ConvertContext, ConvertResult } from './context.js';
import { convertLlava } from './llava.js';
import { convertOnevision } from './onevision.js';
import { ConvertError, SafetensorsModel } from './safetensors.js';
import { OUT_TYPES, type OutType } from './tensor-planner.js';

export { ConvertError, SafetensorsModel } from './safetensors.js';
export type { SafetensorsTensor } from './safetensors.js';
export type { ConvertResult } from './context.js';
export { OUT_TYPES, permuteQK, type OutType } from './tensor-planner.js';
export { parseSentencePieceModel, loadSpmVocab, loadBpeVocab, type ConvertedVocab } from './tokenizer.js';

export const SUPPORTED_ARCHITECTURES = [
    'LlavaForConditionalGeneration',
    'LlavaOnevisionForConditionalGeneration',
] as const;

export interface ConvertOptions {
    /** the Hugging Face model folder (config.json, *.safetensors, tokenizer files) */
    dir: string;
    /** output folder (created); files: model-<type>.gguf + mmproj-<type>.gguf, or vocab.gguf */
    outDir: string;
    type?: OutType;
    vocabOnly?: boolean;
    /** general.name (default: config._name_or_path's last part or the folder name) */
    name?: string;
    log?: (line: string) => void;
}

export async function convertHfModel(opts: ConvertOptions): Promise<ConvertResult> {
    const outType = opts.type ?? 'f16';
    if (!OUT_TYPES.includes(outType))
        throw new ConvertError(`unknown output type '${String(outType)}' (f32, f16, q8_0)`);
    const config = await readJson(path.join(opts.dir, 'config.json'));
    const archs = config.architectures;
    const hfArch = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : undefined;
    if (!hfArch) throw new ConvertError(`${path.join(opts.dir, 'config.json')}: no 'architectures' entry`);
    const run =
        hfArch === 'LlavaForConditionalGeneration'
            ? convertLlava
            : hfArch === 'LlavaOnevisionForConditionalGeneration'
              ? convertOnevision
              : undefined;
    if (!run)
        throw new ConvertError(
            `unsupported architecture '${hfArch}' (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`,
        );
    const log = opts.log ?? (() => undefined);
    const st = opts.vocabOnly ? undefined : await SafetensorsModel.open(opts.dir);
    try {
        const ctx: ConvertContext = {
            dir: opts.dir,
            outDir: opts.outDir,
            outType,
            vocabOnly: !!opts.vocabOnly,
            config,
            hfArch,
            naming: modelNaming(opts.dir, config, opts.name),
            st,
            log,
        };
        log(`${hfArch} -> ${outType}${ctx.vocabOnly ? ' (vocab only)' : ''}`);
        return await run(ctx);
    } finally {
        await st?.close();
    }
}
