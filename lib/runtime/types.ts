// The runtime's public types: what users of VisionModel / VisionContext see. The native addon's own shapes
// (lib/bindings/AddonTypes.ts) stay internal, so the addon can change without changing the public API; the
// runtime passes values between the two, which TypeScript checks structurally.

export type FlashAttention = 'auto' | 'on' | 'off';
export type CacheType = 'f16' | 'f32' | 'bf16' | 'q8_0' | 'q4_0';

/** What a loaded text model (and its projector) says about itself. */
export interface VisionModelInfo {
    modelPath: string;
    mmprojPath: string;
    description: string;
    sizeBytes: number;
    parameters: number;
    nEmbd: number;
    nLayer: number;
    nCtxTrain: number;
    nVocab: number;
    bos: number | null;
    eos: number | null;
    eot: number | null;
    addBos: boolean;
    chatTemplate: string | null;
    hasVision: boolean;
    /** The text that stands for one image in a prompt (`<__media__>`). */
    mediaMarker: string;
    gpuBackend: string;
    /** All GGUF metadata of the text model, values as llama.cpp prints them. */
    metadata: Record<string, string>;
}

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

/** What evaluating a prompt into a sequence gives. */
export interface PrefillResult {
    nPast: number;
    promptTokens: number;
    imageTokens: number;
    imageMs: number;
    promptMs: number;
    forwardPasses: number;
    /** With `logits: true`: one value per vocabulary entry. */
    logits?: Float32Array;
}

/** Why a generation ended ('abort' only from the deprecated resolve-on-abort methods). */
export type StopReason = 'eog' | 'maxTokens' | 'abort' | 'contextFull' | 'error';

/** Where a model runs (`gpu` at load) and where it was placed: chosen by lib/bindings, public here. */
export type { GpuRequest, GpuSelection } from '../bindings/gpu.js';
