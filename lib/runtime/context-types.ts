// The options and results of a VisionContext's operations (public types of the runtime).
import type { PromptText } from '../tokenize/index.js';
import type {
    CacheType,
    EncodedImage,
    EncodedImageHandle,
    FlashAttention,
    ImageEmbeddings,
    ImagePixels,
    PrefillResult,
    StopReason,
} from './types.js';

export interface VisionContextOptions {
    /** KV cells per sequence. Default 4096. */
    contextSize?: number;
    /** Parallel sequence slots. Default 1. */
    sequences?: number;
    batchSize?: number;
    /**
     * Tokens per llama_decode micro-batch. Default 128 on the CPU (its prefill measured faster than with larger
     * micro-batches: BENCHMARKS.md), llama.cpp's 512 on a GPU.
     */
    ubatchSize?: number;
    threads?: number;
    /**
     * Default: 'auto' on a GPU; on the CPU, measured (llama.cpp's attention at this model's shapes, with and
     * without, over one assessment's prefill and decode): it speeds prefill and slows decoding at depth, by
     * amounts that differ between CPUs. With a quantized cacheType: 'auto' (llama.cpp needs it for a quantized V).
     */
    flashAttention?: FlashAttention;
    cacheType?: CacheType;
    /** One KV cache shared by all sequences (default only with one sequence; see create()). */
    kvUnified?: boolean;
    /**
     * The work of one typical request, which the flash-attention probe prices with and without (CPU, no
     * `flashAttention` given). The application knows it (LlavaGuard passes its prompt's size); default: half the
     * per-sequence context as prompt, 64 generated tokens.
     */
    workload?: ContextWorkload;
}

export interface ContextWorkload {
    promptTokens: number;
    generatedTokens: number;
}

export interface Prompt {
    /**
     * Text with one `model.info.mediaMarker` per image (or per embeddings entry), special-token text such as
     * <|im_start|> read as those tokens. In parts, only the parts with `parseSpecial` are (the chat template's
     * own text): a client's text, such as a policy, never becomes control tokens or an image slot.
     */
    text?: PromptText;
    images?: ImagePixels[];
    /**
     * Instead of images: embedding sequences made by our own image pipeline (see {@link VisionContext.encodeImages});
     * an ImageEmbeddingsHandle is decoded from native memory as it is, a Float32Array is copied.
     */
    embeddings?: ImageEmbeddings[];
    tokens?: Int32Array | number[];
    /** Add BOS etc. as the model's tokenizer wants. */
    addSpecial?: boolean;
}

export interface SamplingOptions {
    /** GBNF grammar constraining the output. */
    grammar?: string;
    /** <= 0: greedy. */
    temperature?: number;
    topK?: number;
    topP?: number;
    seed?: number;
    /**
     * With a grammar: tokens the grammar forces are appended without sampling and evaluated in one batch with
     * the next step (default true). The output is token for token what plain constrained decoding gives
     * (with ubatchSize 1 bit for bit; larger micro-batches sum in another order, ~1e-3 in the logits, so a
     * near-tie can flip, as in any batched llama.cpp decoding).
     */
    jumpForward?: boolean;
    /**
     * With jumpForward: text the output is likely to contain (for a verdict, `verdictDrafts(policy)`). When the
     * text generated so far ends with a proper prefix of some of these and they go on alike, that rest, in the
     * vocabulary's canonical tokens, is evaluated in one batch with the next step; sampling then runs at each of
     * its positions as plain decoding would, and the draft is kept only as far as it picked the same tokens. So
     * the output does not change (the same caveat on micro-batches as jumpForward), and a model that writes the
     * canonical spelling (as one trained on the format does) needs one forward pass for each such run. Rejected
     * draft tokens cost compute, so the context budgets them: short drafts until its model has confirmed some
     * (then full length), none once it has rejected most.
     */
    drafts?: readonly string[];
    /**
     * llama.cpp's plain chain: the grammar over all logits at every step, then the rest, no jump-forward. Slower
     * (the grammar checks the whole vocabulary at every step); the reference our sampler is tested against.
     */
    referenceSampler?: boolean;
}

export interface GenerateOptions extends SamplingOptions {
    prompt: Prompt;
    /** Sequence slot (0 .. sequences-1). Default 0. */
    sequence?: number;
    /** Keep this many cells of the sequence (a prefix evaluated before) and start the prompt after them. */
    keepPrefix?: number;
    maxTokens?: number;
    signal?: AbortSignal;
    onToken?: (token: { token: number; text: string }) => void;
}

export interface GenerateTimings {
    imageMs: number;
    promptMs: number;
    decodeMs: number;
    totalMs: number;
}

export interface GenerateResult {
    text: string;
    tokens: Int32Array;
    stopReason: StopReason;
    promptTokens: number;
    imageTokens: number;
    /** Position after the prompt and the generated tokens that were evaluated. */
    nPast: number;
    /** llama_decode calls: for the prompt, and after it (fewer than generated tokens with jump-forward). */
    forwardPasses: { prefill: number; decode: number };
    /** Generated tokens the grammar forced. */
    forcedTokens: number;
    /** Draft tokens evaluated, and how many of them sampling confirmed. */
    draftTokens: { proposed: number; accepted: number };
    timings: GenerateTimings;
}

export interface EvaluateOptions {
    prompt: Prompt;
    sequence?: number;
    keepPrefix?: number;
    signal?: AbortSignal;
    /** Return the logits of the prompt's last position (the prompt must then end with text). */
    logits?: boolean;
}

export interface EncodeImagesOptions {
    signal?: AbortSignal;
    /**
     * The most consecutive images of one size that go through the encoder as one graph (mtmd's batch API), an
     * integer 1-64; 1 encodes them one by one. Projectors that cannot batch, and a vision tower on a GPU, encode
     * one by one whatever it says.
     */
    batch?: number;
}

/** The context's operations without queueing, inside {@link VisionContext.exclusive}. */
export interface DirectContext {
    encodeImages(images: ImagePixels[], options?: EncodeImagesOptions): Promise<EncodedImage[]>;
    /** As encodeImages, the embeddings left in native memory (the caller disposes them). */
    encodeImageHandles(images: ImagePixels[], options?: EncodeImagesOptions): Promise<EncodedImageHandle[]>;
    evaluate(options: EvaluateOptions): Promise<PrefillResult>;
    generateMany(requests: GenerateOptions[]): Promise<GenerateResult[]>;
    copySequence(source: number, destination: number): Promise<void>;
}
