import type { VisionInfo } from '../runtime/VisionModel.js';
import {
    LLAVA15_CONFIG,
    ONEVISION_CONFIG,
    padColorOf,
    type Llava15Config,
    type OneVisionConfig,
} from '../preprocess/index.js';
import type { ImagePipelineMode, ImagePipelineName } from './types.js';

export interface PipelineChoice {
    name: ImagePipelineName;
    onevision?: OneVisionConfig;
    llava15?: Llava15Config;
    /** Why this pipeline, for logs and errors. */
    reason: string;
}

type Triple = readonly [number, number, number];

function triple(v: unknown, fallback: Triple): Triple {
    return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')
        ? (v as unknown as Triple)
        : fallback;
}

function preprocessorConfig(vision: VisionInfo): Record<string, unknown> | undefined {
    const raw = vision.metadata['llavaguard.preprocessor_config'];
    if (typeof raw !== 'string') return undefined;
    try {
        const v: unknown = JSON.parse(raw);
        return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Picks the image pipeline from the mmproj's metadata (written by `llavaguard convert`, or inferred from the
 * tower for GGUFs made elsewhere): OneVision = anyres pinpoints + image_newline + a tower without a class token
 * (SigLIP); LLaVA-1.5 = a CLIP tower (class token) without pinpoints. LLaVA-1.6 (CLIP + pinpoints) has no
 * faithful pipeline here yet and goes through llama.cpp's.
 */
export function selectImagePipeline(
    vision: VisionInfo | undefined,
    mode: ImagePipelineMode = 'faithful',
): PipelineChoice {
    if (!vision) return { name: 'llama.cpp', reason: 'the model has no vision projector' };
    if (mode === 'llama.cpp') return { name: 'llama.cpp', reason: 'requested' };
    if (vision.projectorType !== 'mlp') return { name: 'llama.cpp', reason: `projector '${vision.projectorType}'` };
    const pre = preprocessorConfig(vision);
    // the converter copies config.json's vision_aspect_ratio (transformers keeps it in the model config)
    const fromConfig = vision.metadata['llavaguard.vision_aspect_ratio'];
    const aspect =
        typeof fromConfig === 'string'
            ? fromConfig
            : typeof pre?.vision_aspect_ratio === 'string'
              ? pre.vision_aspect_ratio
              : undefined;
    const maxPatches = aspect ? /^anyres_max_(\d+)$/.exec(aspect)?.[1] : undefined;
    const oneVision =
        vision.gridPinpoints.length > 0 &&
        vision.hasImageNewline &&
        (maxPatches !== undefined || (!aspect && !vision.hasClassEmbedding));
    if (oneVision) {
        const onevision: OneVisionConfig = {
            imageSize: vision.imageSize,
            patchSize: vision.patchSize,
            // the converter stores the config's pairs in its order (transformers': [height, width]); llama.cpp reads
            // them as [width, height], which for OneVision's symmetric set gives the same candidates
            gridPinpoints: vision.gridPinpoints.map(([a, b]) => [a, b] as const),
            maxNumPatches: maxPatches ? Number(maxPatches) : ONEVISION_CONFIG.maxNumPatches,
            imageMean: triple(vision.imageMean, ONEVISION_CONFIG.imageMean),
            imageStd: triple(vision.imageStd, ONEVISION_CONFIG.imageStd),
            rescaleFactor:
                typeof pre?.rescale_factor === 'number' ? pre.rescale_factor : ONEVISION_CONFIG.rescaleFactor,
        };
        if (mode === 'fast') return { name: 'onevision-fast', onevision, reason: 'fast: overview only' };
        return {
            name: 'onevision-anyres',
            onevision,
            reason: aspect ? `preprocessor ${aspect}` : 'pinpoints + image_newline + SigLIP tower',
        };
    }
    if (vision.gridPinpoints.length === 0 && vision.hasClassEmbedding) {
        const mean = triple(vision.imageMean, LLAVA15_CONFIG.imageMean);
        const llava15: Llava15Config = {
            imageSize: vision.imageSize,
            padColor: padColorOf(mean),
            imageMean: mean,
            imageStd: triple(vision.imageStd, LLAVA15_CONFIG.imageStd),
            rescaleFactor: LLAVA15_CONFIG.rescaleFactor,
        };
        return { name: 'llava15-pad', llava15, reason: 'CLIP tower, no anyres' };
    }
    return { name: 'llama.cpp', reason: 'no faithful pipeline for this layout (e.g. LLaVA-1.6 anyres)' };
}
