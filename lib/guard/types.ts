import type { ChatFormatId } from '../chat/formats.js';
import type { FlashAttention } from '../runtime/types.js';
import type { GpuRequest, GpuSelection } from '../runtime/types.js';
import type { FlashAttentionChoice } from '../runtime/flash-attention-choice.js';
import type { ImageInput } from '../image/types.js';
import type { Policy } from '../policy/index.js';
import type { ParseMethod, Rating } from '../verdict/types.js';
import type { ImagePipelineMode, ImagePipelineName } from '../pipeline/types.js';

export type { ImageInput };

export interface LlavaGuardLoadOptions {
    /** Text-model GGUF. */
    model: string;
    /** mmproj GGUF (vision tower + projector). */
    mmproj: string;
    /**
     * Where the model runs: 'auto' (default) the first GPU backend (CUDA, Metal, Vulkan) whose package is installed
     * and that opens a GPU, else the CPU with the reason in `guard.modelInfo.gpu`; 'cpu', 'cuda', 'vulkan',
     * 'metal' that one (an error when it cannot run).
     */
    gpu?: GpuRequest;
    /** Text-model layers on the GPU (-1 = all). Default: all when a GPU was chosen. */
    gpuLayers?: number;
    /** CPU threads for the text model and the vision encoder. Default: the machine's parallelism. */
    threads?: number;
    /** KV cells per sequence. Default: enough for the image tokens, the policy and 500 answer tokens. */
    contextSize?: number;
    /** Parallel sequence slots (for scan / assessPolicies). Default 1. */
    sequences?: number;
    /** Flash attention of the text model. Default: 'auto' on a GPU, measured on the CPU (see VisionContext). */
    flashAttention?: FlashAttention;
    /** Flash attention of the vision encoder. Default: 'auto' on a GPU, measured on the CPU (see VisionModel). */
    mmprojFlashAttention?: FlashAttention;
    /**
     * 'faithful' (default): images as the model saw them in training (OneVision anyres_max_9 layout, LLaVA-1.5
     * padding); 'fast': OneVision's overview alone (729 tokens); 'llama.cpp': mtmd's own preprocessing.
     */
    imagePipeline?: ImagePipelineMode;
    /**
     * How many of one picture's encoder inputs (OneVision's overview and tiles) go through the vision encoder as
     * one graph, 1-64. Default 1 (one by one): on the CPU a batch measured no faster and its graph holds every
     * tile's activations at once (BENCHMARKS.md, "Batched tile encode"). With the vision tower on a GPU the tiles
     * are encoded one by one whatever it says (a batched graph crashed ggml-vulkan).
     */
    encodeBatch?: number;
    /** Chat format override; default chosen from the GGUF metadata and file name. */
    chatFormat?: ChatFormatId;
    onProgress?: (progress: number) => void;
}

export interface AssessOptions {
    /** Default: the policy the model was trained with (v1.0 or v1.2 wording), all categories at their defaults. */
    policy?: Policy;
    seed?: number;
    /** Default 0.2, as the reference. */
    temperature?: number;
    /** Default 0.95. */
    topP?: number;
    /** Default 50. */
    topK?: number;
    /** Default 500. */
    maxTokens?: number;
    /** Constrain decoding to the verdict's JSON layout (default true). */
    grammar?: boolean;
    /** Bound on the rationale's length in characters (grammar mode). */
    maxRationaleChars?: number;
    /** false: stop after the category (grammar mode); `rationale` is then null. Default true. */
    rationale?: boolean;
    /**
     * How the grammar holds the verdict's fixed text (the JSON keys, the rating, the category). 'canonical'
     * (default): in the tokenizer's own tokens for it, as the training targets were tokenized; those tokens
     * are then appended without forward passes of their own, except where the answers part. 'any': only its
     * characters, in any spelling (llama.cpp's usual JSON grammars; the model picks each token).
     */
    layoutTokens?: 'canonical' | 'any';
    signal?: AbortSignal;
}

export interface AssessmentTimings {
    imageMs: number;
    promptMs: number;
    decodeMs: number;
    totalMs: number;
}

export interface Assessment {
    rating: Rating;
    /** One of the policy's category strings (or the model's raw answer when it matched none). */
    category: string | null;
    rationale: string | null;
    unsafe: boolean;
    /** The model's whole answer. */
    raw: string;
    parsedBy: ParseMethod;
    policyHash: string;
    model: AssessmentModelInfo;
    timings: AssessmentTimings;
    tokens: { prompt: number; image: number; generated: number };
    /** How the image reached the model ('onevision-fast' trades fidelity for speed). */
    imagePipeline: ImagePipelineName;
    stopReason: string;
    /** The backend that ran it. */
    backend: GpuSelection['backend'];
    /** The device that ran it, as its driver names it. */
    device: string;
}

export interface AssessmentModelInfo {
    name: string;
    path: string;
    chatFormat: ChatFormatId;
    chatFormatReason: string;
    policyVersion: string;
    /** The image pipeline for this model and why (see lib/pipeline). */
    imagePipeline: ImagePipelineName;
    imagePipelineReason: string;
    /** Flash attention of the text model and of the vision encoder, and how each was chosen. */
    flashAttention: { text: FlashAttentionChoice; vision: FlashAttentionChoice | undefined };
    /** True for the generated random-weight demo/test models: their verdicts mean nothing. */
    randomWeights: boolean;
    /** Where the model runs (backend, device) and why there (what was tried and failed). */
    gpu: GpuSelection;
}

export type AssessEvent =
    | { type: 'token'; text: string; token: number }
    | { type: 'rating'; rating: Rating }
    | { type: 'verdict'; assessment: Assessment };

export interface ScoreOptions {
    policy?: Policy;
    signal?: AbortSignal;
}

/** Probabilities read from the model's logits at the rating and at the category choice (no sampling). */
export interface ScoreResult {
    /** P(Unsafe) at the rating position, normalised over Safe/Unsafe. */
    unsafeProbability: number;
    ratingProbabilities: { Safe: number; Unsafe: number };
    /** The more probable rating; the categories are scored after it. */
    rating: Rating;
    /** Each of the policy's category strings with its probability (normalised over them). */
    categoryProbabilities: Record<string, number>;
    /** The most probable category. */
    category: string;
    policyHash: string;
    model: AssessmentModelInfo;
    timings: { imageMs: number; promptMs: number; scoreMs: number; totalMs: number };
    tokens: { prompt: number; image: number };
    imagePipeline: ImagePipelineName;
    forwardPasses: { prefill: number; scoring: number };
    backend: GpuSelection['backend'];
    device: string;
}
