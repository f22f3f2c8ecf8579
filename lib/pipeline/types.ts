import type { ImageEmbeddings, ImagePixels } from '../runtime/types.js';

/**
 * How an image reaches the text model:
 * - `onevision-anyres`: transformers' LLaVA-OneVision layout (anyres_max_9: overview first, unpadded tile grid,
 *   downsampling, image_newline after each row), encoded tile by tile through mtmd, arranged by us;
 * - `onevision-fast`: the overview alone (729 tokens), for users who trade fidelity for speed;
 * - `llava15-pad`: LLaVA-1.5's training layout (padded to a square in the mean colour, then resized);
 * - `llama.cpp`: mtmd's own preprocessing (what llama.cpp's tools do), for models we have no faithful pipeline for.
 */
export type ImagePipelineName = 'onevision-anyres' | 'onevision-fast' | 'llava15-pad' | 'llama.cpp';

/** What a user asks for; the model's metadata decides the concrete pipeline. */
export type ImagePipelineMode = 'faithful' | 'fast' | 'llama.cpp';

/** One image made ready for a prompt: either pixels for mtmd or embeddings we arranged ourselves. */
export interface PreparedImage {
    pipeline: ImagePipelineName;
    /** Embeddings the text model receives for this image (known before the prefill). */
    imageTokens: number;
    images?: ImagePixels[];
    embeddings?: ImageEmbeddings[];
    /** Vision encoder time spent in preparation (embeddings pipelines); 0 when mtmd encodes during the prefill. */
    encodeMs: number;
}
