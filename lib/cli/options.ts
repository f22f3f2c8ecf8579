import { InvalidArgumentError } from 'commander';
import { GPU_REQUESTS } from '../bindings/gpu.js';

export function parseInteger(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < min || n > max)
            throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
        return n;
    };
}

export function parseNumber(name: string, min: number, max: number) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isFinite(n) || n < min || n > max)
            throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
        return n;
    };
}

export const collect = (value: string, previous: string[] = []) => [
    ...previous,
    ...value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
];

export const IMAGE_PIPELINE_MODES = ['faithful', 'fast', 'llama.cpp'] as const;

/** A commander parser for a flag that takes one of `values`. */
export function parseChoice<T extends string>(flag: string, values: readonly T[]) {
    return (value: string): T => {
        if (!(values as readonly string[]).includes(value))
            throw new InvalidArgumentError(`${flag} must be one of ${values.join(', ')}`);
        return value as T;
    };
}

/** --image-pipeline: how images reach the model (see lib/pipeline). */
export const parseImagePipeline = parseChoice('--image-pipeline', IMAGE_PIPELINE_MODES);

export const IMAGE_PIPELINE_HELP =
    "how images reach the model: faithful (as in training: OneVision's anyres_max_9 layout, LLaVA-1.5 padding; default), " +
    "fast (OneVision overview only, 729 tokens), llama.cpp (mtmd's own tiling)";

export const FLASH_ATTENTION_MODES = ['on', 'off', 'auto'] as const;

/** --flash-attention: both the text model and the vision encoder; without it the CPU choice is measured. */
export const parseFlashAttention = parseChoice('--flash-attention', FLASH_ATTENTION_MODES);

export const parseGpu = parseChoice('--gpu', GPU_REQUESTS);

export const GPU_HELP =
    'where the model runs: auto (the first installed GPU package whose GPU opens, else the CPU), cpu, cuda, vulkan, metal; default: auto';

export const FLASH_ATTENTION_HELP =
    "flash attention for the text model and the vision encoder: on, off, auto (llama.cpp's choice); default: measured on the CPU at load, llama.cpp's auto on a GPU";
