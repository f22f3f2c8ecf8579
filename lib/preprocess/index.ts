export { resizeBicubicPil, type RgbImage } from './pil-resize.js';
export { pyFloorDiv, pyRound } from './pyfloat.js';
export {
    ONEVISION_CONFIG,
    selectBestResolution,
    patchOutputSize,
    planOneVision,
    oneVisionTokenCount,
    oneVisionResizedImages,
    preprocessOneVision,
    windowToChw,
    windowToRgb,
    type OneVisionConfig,
    type OneVisionPlan,
    type OneVisionPixels,
    type TileRect,
    type Size,
} from './onevision.js';
export { bilinearResizeHWC, packFeatures } from './onevision-features.js';
export {
    CLIP_MEAN,
    CLIP_STD,
    LLAVA15_CONFIG,
    expandToSquare,
    padColorOf,
    preprocessLlava15,
    type Llava15Config,
    type Llava15Pixels,
} from './llava15.js';
