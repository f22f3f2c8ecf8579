import { InvalidArgumentError } from 'commander';

export function parseInteger(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
        return n;
    };
}

export function parseNumber(name: string, min: number, max: number) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
        return n;
    };
}

export const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export const IMAGE_PIPELINE_MODES = ['faithful', 'fast', 'llama.cpp'] as const;

/** --image-pipeline: how images reach the model (see lib/pipeline). */
export function parseImagePipeline(value: string): (typeof IMAGE_PIPELINE_MODES)[number] {
    if (!(IMAGE_PIPELINE_MODES as readonly string[]).includes(value)) {
        throw new InvalidArgumentError(`--image-pipeline must be one of ${IMAGE_PIPELINE_MODES.join(', ')}`);
    }
    return value as (typeof IMAGE_PIPELINE_MODES)[number];
}

export const IMAGE_PIPELINE_HELP =
    "how images reach the model: faithful (as in training: OneVision's anyres_max_9 layout, LLaVA-1.5 padding; default), " +
    'fast (OneVision overview only, 729 tokens), llama.cpp (mtmd\'s own tiling)';

export const FLASH_ATTENTION_MODES = ['on', 'off', 'auto'] as const;

/** --flash-attention: both the text model and the vision encoder; without it the CPU choice is measured. */
export function parseFlashAttention(value: string): (typeof FLASH_ATTENTION_MODES)[number] {
    if (!(FLASH_ATTENTION_MODES as readonly string[]).includes(value)) {
        throw new InvalidArgumentError(`--flash-attention must be one of ${FLASH_ATTENTION_MODES.join(', ')}`);
    }
    return value as (typeof FLASH_ATTENTION_MODES)[number];
}

export const FLASH_ATTENTION_HELP =
    "flash attention for the text model and the vision encoder: on, off, auto (llama.cpp's choice); default: measured on the CPU at load, llama.cpp's auto on a GPU";
