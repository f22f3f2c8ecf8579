export { loadImage, downscaleTarget } from './load-image.js';
export { rgbFromRaw, type RawPixels, type RgbFromRawOptions } from './raw.js';
export { ImageDecodeError, type ImageDecodeErrorCode, type ImageDecodeErrorDetails } from './errors.js';
export {
    DEFAULT_MAX_PIXELS,
    type AlphaMode,
    type ImageInput,
    type ImageSourceInfo,
    type LoadImageOptions,
    type RgbImage,
} from './types.js';
