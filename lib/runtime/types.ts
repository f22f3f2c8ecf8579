// The runtime's public types: what users of VisionModel / VisionContext see. The native addon's own shapes
// (lib/bindings/AddonTypes.ts) stay internal: where a public type is what the addon reports, it names the fields
// that are public (a field the addon adds does not become public API by itself).
import type * as Native from '../bindings/AddonTypes.js';

export type FlashAttention = 'auto' | 'on' | 'off';
export type CacheType = 'f16' | 'f32' | 'bf16' | 'q8_0' | 'q4_0';

/** What a loaded text model (and its projector) says about itself: the native report's public fields. */
export type VisionModelInfo = Pick<
    Native.NativeModelInfo,
    | 'modelPath'
    | 'mmprojPath'
    | 'description'
    | 'sizeBytes'
    | 'parameters'
    | 'nEmbd'
    | 'nLayer'
    | 'nCtxTrain'
    | 'nVocab'
    | 'bos'
    | 'eos'
    | 'eot'
    | 'addBos'
    | 'chatTemplate'
    | 'hasVision'
    | 'mediaMarker'
    | 'gpuBackend'
    | 'metadata'
>;

export interface ContextInfo {
    contextSize: number;
    sequenceContextSize: number;
    batchSize: number;
    ubatchSize: number;
    sequences: number;
}

/** Packed RGB, 3 bytes a pixel, row-major. */
export interface ImagePixels {
    data: Uint8Array;
    width: number;
    height: number;
    /** Cache key for the encoder. */
    id?: string;
}

/** Rows of the text model's input width (nEmbd), token-major: what an image becomes after the projector. */
export interface ImageEmbeddings {
    data: Float32Array;
    nTokens: number;
}

export interface EncodedImage {
    /** nTokens x nEmbd, token-major. */
    embeddings: Float32Array;
    nTokens: number;
    encodeMs: number;
}

/** What evaluating a prompt into a sequence gives (`logits` with `logits: true`: one value per vocabulary entry). */
export type PrefillResult = Pick<
    Native.NativePrefillResult,
    'nPast' | 'promptTokens' | 'imageTokens' | 'imageMs' | 'promptMs' | 'forwardPasses' | 'logits'
>;

/** Why a generation ended ('abort' only from the deprecated resolve-on-abort methods). */
export type StopReason = 'eog' | 'maxTokens' | 'abort' | 'contextFull' | 'error';

/** Where a model runs (`gpu` at load) and where it was placed: chosen by lib/bindings, public here. */
export type { GpuRequest, GpuSelection } from '../bindings/gpu.js';
