export {
    ImagePipeline,
    releasePreparedImage,
    type EncoderCallOptions,
    type ImageEncoder,
    type ImagePipelineOptions,
} from './ImagePipeline.js';
export { selectImagePipeline, type PipelineChoice } from './select.js';
export { readImageNewline } from './image-newline.js';
export type { ImagePipelineMode, ImagePipelineName, PreparedImage } from './types.js';
