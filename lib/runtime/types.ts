// The runtime's public types: what users of VisionModel / VisionContext see. The native addon's own shapes
// (lib/bindings/AddonTypes.ts) stay internal: where a public type is what the addon reports, it is named here
// (a Pick of the public fields, or the whole report where all of it is meant for users).
import type * as Native from '../bindings/AddonTypes.js';

export type FlashAttention = 'auto' | 'on' | 'off';
export type CacheType = 'f16' | 'f32' | 'bf16' | 'q8_0' | 'q4_0';

/**
 * What a loaded text model (and its projector) says about itself, and where it was placed: the addon's report as
 * it is (what it adds there, such as the GPU placement, is meant for users).
 */
export type VisionModelInfo = Native.NativeModelInfo;

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

/**
 * An image's embeddings held in native memory: what the image pipelines give a prompt, so that the rows never
 * cross into JS between the encoder and the prefill. `data` is a copy, made each time it is read. dispose() frees
 * the rows at once (a prefill already given them keeps them to its end); otherwise the garbage collector does.
 */
export interface ImageEmbeddingsHandle extends ImageEmbeddings {
    readonly nEmbd: number;
    /** 0 once disposed. */
    readonly byteLength: number;
    readonly disposed: boolean;
    dispose(): void;
}

/** An encoded image whose embeddings stay native (see {@link ImageEmbeddingsHandle}). */
export interface EncodedImageHandle {
    embeddings: ImageEmbeddingsHandle;
    nTokens: number;
    encodeMs: number;
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
