// Fuzz target (c): image bytes through loadImage (sharp's decoders behind our header checks) and, for an image it
// accepts, both preprocessing pipelines (LLaVA-1.5's square pad + bicubic resize, OneVision's anyres plan and
// tiles) at tiny tower sizes, so that an execution stays in milliseconds. Only ImageDecodeError may come out,
// and a decoded image must be exactly width x height x 3 bytes.
import { ImageDecodeError, loadImage } from '../../../lib/image/index.js';
import {
    LLAVA15_CONFIG,
    ONEVISION_CONFIG,
    preprocessLlava15,
    preprocessOneVision,
} from '../../../lib/preprocess/index.js';
import { refusedOnlyWith } from './expect.js';

const LLAVA15_TINY = { ...LLAVA15_CONFIG, imageSize: 28 };
const ONEVISION_TINY = {
    ...ONEVISION_CONFIG,
    imageSize: 28,
    patchSize: 14,
    gridPinpoints: [
        [28, 28],
        [28, 56],
        [56, 28],
        [56, 56],
        [84, 28],
    ] as const,
    maxNumPatches: 4,
};
/** Small limits, as a server would set them: a header asking for more is refused before decoding. */
const LIMITS = { maxPixels: 1 << 20, maxSide: 256 };

export async function fuzz(data: Buffer): Promise<void> {
    const r = await refusedOnlyWith(() => loadImage(data, LIMITS), [ImageDecodeError]);
    if (!r.ok) return;
    const img = r.value;
    if (
        !Number.isInteger(img.width) ||
        !Number.isInteger(img.height) ||
        img.width < 1 ||
        img.height < 1 ||
        img.data.length !== img.width * img.height * 3
    ) {
        throw new Error(`loadImage returned ${img.width}x${img.height} with ${img.data.length} bytes`);
    }
    preprocessLlava15(img, LLAVA15_TINY);
    preprocessOneVision(img, ONEVISION_TINY);
}
