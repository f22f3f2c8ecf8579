// The exact shape of the native addon (native/): the single seam between C++ and TypeScript.
// Everything else in lib/ talks to llama.cpp only through these types.

export type FlashAttention = 'auto' | 'on' | 'off';
export type CacheType = 'f16' | 'f32' | 'bf16' | 'q8_0' | 'q4_0';

export interface NativeLoadModelOptions {
    modelPath: string;
    mmprojPath?: string;
    /** Text-model layers offloaded to the GPU; -1 = all. */
    gpuLayers?: number;
    useMmap?: boolean;
    mmprojUseGpu?: boolean;
    mmprojThreads?: number;
    mmprojFlashAttention?: FlashAttention;
    imageMinTokens?: number;
    imageMaxTokens?: number;
    warmup?: boolean;
    /** Load the tokenizer only (no weights): for tokenize/detokenize. */
    vocabOnly?: boolean;
    /**
     * ggml device names (e.g. ["Vulkan0"]) that take the offloaded layers and the vision tower; [] keeps
     * everything on the CPU; absent: llama.cpp's choice among all loaded devices.
     */
    devices?: string[];
}

export interface NativeModelInfo {
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
    /** The backend of the devices the model was given ('cpu' when none). */
    gpuBackend: string;
    /** The ggml devices the model was given. */
    devices: string[];
    /** llama.cpp's log lines saying where the layers and the vision tower went. */
    placementLog: string[];
    /** All GGUF metadata of the text model, values as llama.cpp prints them. */
    metadata: Record<string, string>;
}

export interface NativeContextOptions {
    /** Total KV cells (all sequences together when kvUnified). */
    contextSize?: number;
    batchSize?: number;
    ubatchSize?: number;
    sequences?: number;
    threads?: number;
    threadsBatch?: number;
    flashAttention?: FlashAttention;
    cacheTypeK?: CacheType;
    cacheTypeV?: CacheType;
    kvUnified?: boolean;
}

export interface NativeContextInfo {
    contextSize: number;
    sequenceContextSize: number;
    batchSize: number;
    ubatchSize: number;
    sequences: number;
}

/** Packed RGB, 3 bytes a pixel, row-major. */
export interface NativeImage {
    data: Uint8Array;
    width: number;
    height: number;
    /** Cache key for the encoder. */
    id?: string;
}

/** Rows of the text model's input width (nEmbd), token-major: what an image becomes after the projector. */
export interface NativeEmbeddings {
    data: Float32Array;
    nTokens: number;
}

/**
 * An image's embeddings kept in native memory (native/context/image-embeddings.h): a prompt takes it where it
 * takes embeddings, without the rows crossing into JS. Freed by dispose() or, failing that, by the GC (its size is
 * reported to V8).
 */
export interface NativeImageEmbeddings {
    readonly nTokens: number;
    readonly nEmbd: number;
    /** 0 once disposed. */
    readonly byteLength: number;
    readonly disposed: boolean;
    /** A copy of the rows (nTokens x nEmbd, token-major), made when read. */
    readonly data: Float32Array;
    dispose(): void;
}

export interface NativeEncodedImage {
    /** nTokens x nEmbd, token-major, in native memory. */
    embeddings: NativeImageEmbeddings;
    nTokens: number;
    encodeMs: number;
}

export interface NativeEncodeImagesRequest {
    /** Each at most the encoder's input size: mtmd must not cut it into tiles. */
    images: NativeImage[];
    /** The most consecutive same-size images encoded as one graph (1-64, default 1). */
    batch?: number;
    abort?: NativeAbortHandle;
}

export interface NativePrompt {
    /** Text with one `mediaMarker` per image (or per embeddings entry). */
    text?: string;
    images?: NativeImage[];
    /** Instead of images: precomputed embedding sequences, decoded at the markers' places. */
    embeddings?: Array<NativeEmbeddings | NativeImageEmbeddings>;
    /** Token ids, instead of text. */
    tokens?: Int32Array | number[];
    /** Instead of text: its tokens (lib/tokenize) before, between and after the images or embeddings. */
    textTokens?: Int32Array[];
    addSpecial?: boolean;
    parseSpecial?: boolean;
}

export interface NativeSamplerOptions {
    grammar?: string;
    grammarRoot?: string;
    /** <= 0: greedy. */
    temperature?: number;
    topK?: number;
    topP?: number;
    seed?: number;
    /** Append grammar-forced tokens without sampling, batched with the next step (default true). */
    jumpForward?: boolean;
    /** llama.cpp's plain chain (grammar over all logits each step, no jump-forward): the reference for comparisons. */
    referenceSampler?: boolean;
    /**
     * Likely continuations (<= 4096 strings of <= 64 KiB): after generated text ending in a proper prefix of some,
     * their common rest is evaluated in one batch with the next step and kept as far as sampling confirms it
     * (with jumpForward; not with referenceSampler).
     */
    drafts?: string[];
}

export interface NativeEvaluateRequest {
    sequence?: number;
    /** Position where the prompt starts; KV cells of this sequence from here on are discarded first. */
    nPast?: number;
    prompt: NativePrompt;
    abort?: NativeAbortHandle;
    /** evaluate() only: return the logits of the prompt's last position. */
    logits?: boolean;
}

export interface NativePrefillResult {
    nPast: number;
    promptTokens: number;
    imageTokens: number;
    imageMs: number;
    promptMs: number;
    forwardPasses: number;
    /** With `logits: true`: one value per vocabulary entry. */
    logits?: Float32Array;
}

export interface NativeGenerateRequest extends NativeEvaluateRequest {
    /** Continuous mode: the id its events carry (default: its index). */
    id?: number;
    sampler?: NativeSamplerOptions;
    maxTokens?: number;
}

export type NativeStopReason = 'eog' | 'maxTokens' | 'abort' | 'contextFull' | 'error';

export interface NativeGenerateResult extends NativePrefillResult {
    stopReason: NativeStopReason;
    /** Set when stopReason is 'error' (or an abort hit the prefill). */
    error?: string;
    tokens: Int32Array;
    decodeMs: number;
    prefillForwardPasses: number;
    /** llama_decode calls after the prefill that this sequence took part in. */
    forwardPasses: number;
    /** Generated tokens that the grammar forced (appended without a forward pass of their own). */
    forcedTokens: number;
    /** Draft tokens evaluated, and how many of them sampling confirmed (generated without a forward pass of their own). */
    draftTokens: number;
    draftTokensAccepted: number;
}

/** A token of request `request`; in continuous mode also, once, its result (token -1, piece empty). */
export type NativeTokenCallback = (
    request: number,
    token: number,
    piece: Buffer,
    result?: NativeGenerateResult,
) => void;

export interface NativeAbortHandle {
    abort(): void;
    readonly aborted: boolean;
}

export interface NativeContext {
    info(): NativeContextInfo;
    evaluate(request: NativeEvaluateRequest): Promise<NativePrefillResult>;
    /**
     * With `continuous`: requests join through admit() between decode steps while it runs, each result goes to
     * onToken as its request finishes (its slot's KV cells cleared), and the promise resolves with [] once nothing
     * is live or waiting.
     */
    generate(
        requests: NativeGenerateRequest[],
        onToken?: NativeTokenCallback,
        options?: { continuous?: boolean },
    ): Promise<NativeGenerateResult[]>;
    /** Adds requests to the running continuous generation; false when none runs (or it has ended). */
    admit(requests: NativeGenerateRequest[]): boolean;
    encodeImages(request: NativeEncodeImagesRequest): Promise<NativeEncodedImage[]>;
    clearSequence(sequence?: number, fromPosition?: number): void;
    copySequence(source: number, destination: number): void;
    sequenceLength(sequence: number): number;
    close(): void;
    readonly closed: boolean;
}

export interface NativeModel {
    info(): NativeModelInfo;
    tokenize(text: string, addSpecial?: boolean, parseSpecial?: boolean): Int32Array;
    detokenize(tokens: Int32Array | number[], unparseSpecial?: boolean): string;
    tokenToPiece(token: number, special?: boolean): Buffer;
    isEog(token: number): boolean;
    createContext(options?: NativeContextOptions): Promise<NativeContext>;
    close(): void;
    readonly closed: boolean;
}

export interface NativeDevice {
    /** ggml's device name, e.g. "CPU", "Vulkan0", "CUDA0". */
    name: string;
    /** The device itself, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
    description: string;
    /** The ggml backend it belongs to, e.g. "CPU", "Vulkan", "CUDA", "Metal". */
    backend: string;
    type: 'cpu' | 'gpu' | 'igpu' | 'other';
    memoryFree: number;
    memoryTotal: number;
}

export interface NativeBackend {
    name: string;
    devices: NativeDevice[];
}

export interface NativeSystemInfo {
    /** The GPU backend compiled into an addon built from source ('cpu' for none, and for a prebuilt ggml). */
    backend: string;
    llamaSystemInfo: string;
    supportsGpuOffload: boolean;
    devices: NativeDevice[];
    /** ggml registers its backends at run time (a prebuilt ggml with GGML_BACKEND_DL). */
    dynamicBackends: boolean;
}

/** One attention block as llama.cpp builds it on the CPU backend (native/probe/attention-probe.h). */
export interface AttentionProbeCase {
    headDim: number;
    heads: number;
    /** Default: heads. */
    kvHeads?: number;
    queries: number;
    keys: number;
    /** 'kv-cache': the text model (F16 cache, causal mask); 'vision': the encoder (F32, full attention, queries == keys). */
    layout: 'kv-cache' | 'vision';
    flashAttention: boolean;
}

export interface NativeAddon {
    /** ggml_backend_score() of a backend library (0: this CPU cannot run it); throws when it cannot be opened. */
    scoreBackendLibrary(path: string): number;
    /** Registers a CPU backend library (absolute path), synchronously: part of loading the addon. */
    loadCpuBackendLibrary(path: string): NativeBackend;
    /** Registers a backend library (absolute path) off the event loop; a path is loaded once. */
    loadBackendLibrary(path: string): Promise<NativeBackend>;
    /** Opens a driver library by its bare name from the system's search path (before the backend that needs it). */
    loadSystemLibrary(name: string): void;
    /** llama_backend_init() once, after the CPU backend is registered. */
    initBackends(): { dynamic: boolean };
    /** The folder libllama was loaded from (null if unknown). */
    llamaLibraryFolder(): string | null;
    backends(): NativeBackend[];
    loadModel(options: NativeLoadModelOptions, onProgress?: (progress: number) => void): Promise<NativeModel>;
    systemInfo(): NativeSystemInfo;
    /** llama.cpp's quantizer (llama_model_quantize), off the event loop. */
    quantize(options: {
        input: string;
        output: string;
        type: 'q4_k_m' | 'q5_k_m' | 'q8_0' | 'q4_0' | 'f16';
        threads?: number;
    }): Promise<void>;
    /** Fastest ms per case of `repeats` timed runs after a warm-up, on the CPU backend, off the event loop. */
    probeAttention(options: { cases: AttentionProbeCase[]; threads?: number; repeats?: number }): Promise<number[]>;
    /** LLaVA-OneVision's feature arrangement on the encoder's handles (native/context/pack-features.h). */
    packOneVisionFeatures(request: NativePackOneVisionRequest): NativeImageEmbeddings;
    AbortHandle: new () => NativeAbortHandle;
}

/** The layout of lib/preprocess's OneVisionPlan that the packing needs. */
export interface NativePackOneVisionRequest {
    overview: NativeImageEmbeddings;
    /** Row-major over the tile grid. */
    tiles: NativeImageEmbeddings[];
    newline: Float32Array;
    featuresPerSide: number;
    gridCols: number;
    unpadded: { top: number; left: number; h: number; w: number };
    downsampled?: { h: number; w: number };
    totalTokens: number;
}
