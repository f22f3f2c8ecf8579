// Public API of llavaguard.
export { LlavaGuard, REFERENCE_SAMPLING } from './guard/LlavaGuard.js';
export type {
    AssessEvent,
    Assessment,
    AssessmentModelInfo,
    AssessmentTimings,
    AssessOptions,
    ImageInput,
    LlavaGuardLoadOptions,
    ScoreOptions,
    ScoreResult,
} from './guard/types.js';
export * from './policy/index.js';
export * from './chat/index.js';
export * from './verdict/index.js';
export {
    loadImage,
    rgbFromRaw,
    ImageDecodeError,
    type ImageDecodeErrorCode,
    type RgbImage,
    type LoadImageOptions,
} from './image/index.js';
export { VisionModel, type VisionModelOptions, type VisionInfo } from './runtime/VisionModel.js';
export {
    VisionContext,
    type VisionContextOptions,
    type GenerateOptions,
    type GenerateResult,
    type EvaluateOptions,
    type Prompt,
    type SamplingOptions,
    type EncodeImagesOptions,
    type DirectContext,
    type GenerateTimings,
} from './runtime/VisionContext.js';
export { AbortError, ClosedError, ModelLoadError } from './runtime/errors.js';
/** A prompt's text in parts: the chat template's own (special tokens parsed) and a client's (never). */
export type { PromptText, TextPart } from './tokenize/index.js';
export { Scheduler, type ScheduledGeneration } from './runtime/Scheduler.js';
export type { GenerationEvent } from './runtime/generation-stream.js';
export * from './pipeline/index.js';
export * from './scan/index.js';
export * from './queue/index.js';
export * from './report/index.js';
export * as evaluation from './eval/index.js';
export { createServer, SERVER_DEFAULTS, type ServerOptions, type ServedGuard } from './server/index.js';
export type {
    CacheType,
    ContextInfo,
    EncodedImage,
    EncodedImageHandle,
    FlashAttention,
    GpuRequest,
    GpuSelection,
    ImageEmbeddings,
    ImageEmbeddingsHandle,
    ImagePixels,
    PrefillResult,
    StopReason,
    VisionModelInfo,
} from './runtime/types.js';
export type { FlashAttentionChoice } from './runtime/flash-attention-choice.js';
export type * from './runtime/native-type-aliases.js';
