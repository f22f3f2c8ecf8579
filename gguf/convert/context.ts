// What one conversion run knows: the folder, its config, the options and (unless --vocab-only) the
// opened safetensors checkpoint.

import path from 'node:path';

import type { ModelNaming } from './common.js';
import type { Json } from './config.js';
import type { OutType } from './tensor-planner.js';
import type { SafetensorsModel } from './safetensors.js';

export interface ConvertContext {
    dir: string;
    outDir: string;
    outType: OutType;
    vocabOnly: boolean;
    config: Json;
    hfArch: string;
    naming: ModelNaming;
    /** undefined with vocabOnly */
    st?: SafetensorsModel;
    log: (line: string) => void;
}

export interface ConvertResult {
    hfArch: string;
    /** the text model (or the vocab-only file) */
    model: string;
    mmproj?: string;
    bytes: number;
    textArch: 'llama' | 'qwen2';
    llavaguardVersion?: string;
    /** vision blocks written / run by llama.cpp */
    visionBlocks?: number;
}

export function outputPaths(ctx: ConvertContext): { model: string; mmproj: string } {
    if (ctx.vocabOnly) return { model: path.join(ctx.outDir, 'vocab.gguf'), mmproj: '' };
    return {
        model: path.join(ctx.outDir, `model-${ctx.outType}.gguf`),
        mmproj: path.join(ctx.outDir, `mmproj-${ctx.outType}.gguf`),
    };
}
