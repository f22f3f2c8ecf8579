import type { VisionModel } from '../evaluation/VisionModel.js';
import { loadImage } from '../image/index.js';
import type { ImageInput, RgbImage } from '../image/types.js';

/**
 * Decodes any supported input to RGB, downscaled only as far as the model's preprocessing can still use:
 * the largest anyres resolution for tiling models, the encoder's input size otherwise.
 */
export function prepareImage(input: ImageInput, model: VisionModel): Promise<RgbImage> {
    return loadImage(input, { maxSide: maxUsefulSide(model) });
}

export function maxUsefulSide(model: VisionModel): number | undefined {
    const v = model.vision;
    if (!v || !v.imageSize) return undefined;
    const largestPinpoint = v.gridPinpoints.reduce((m, [w, h]) => Math.max(m, w, h), 0);
    return Math.max(v.imageSize, largestPinpoint);
}
