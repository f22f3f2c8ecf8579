import { defaultThreads } from './threads.js';
import type {
    CacheType,
    FlashAttention,
    NativeContext,
    NativeContextInfo,
    NativeEmbeddings,
    NativeEncodedImage,
    NativeGenerateResult,
    NativeImage,
    NativePrefillResult,
    NativeStopReason,
} from '../bindings/AddonTypes.js';
import { nativeAbortFor } from './abort.js';
import { AbortError, ClosedError } from './errors.js';
import { OperationQueue } from './OperationQueue.js';
import { TokenTextDecoder } from './TokenTextDecoder.js';
import type { VisionModel } from './VisionModel.js';
import {
    measureFlashAttention,
    resolveFlashAttention,
    textWorkload,
    type FlashAttentionChoice,
} from './flash-attention-choice.js';

/** The assessment the flash-attention probe prices: default v1.2 policy + one 729-token tile, a short verdict. */
const PROBE_PROMPT_TOKENS = 1857;
const PROBE_GENERATED_TOKENS = 64;
/** The CPU's default micro-batch (see VisionContextOptions.ubatchSize). */
export const CPU_UBATCH = 128;

export interface VisionContextOptions {
    /** KV cells per sequence. Default 4096. */
    contextSize?: number;
    /** Parallel sequence slots. Default 1. */
    sequences?: number;
    batchSize?: number;
    /**
     * Tokens per llama_decode micro-batch. Default 128 on the CPU (measured side by side, 0.5B Q8_0, 2 threads:
     * prefill of 1857 tokens 112 tok/s at 128, 104 at 256, 96 at 512, flash attention on; at 512 tokens with it
     * off 121 / 113 / 102), llama.cpp's 512 on a GPU.
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
}

export interface Prompt {
    /** Text with one `model.info.mediaMarker` per image (or per embeddings entry). */
    text?: string;
    images?: NativeImage[];
    /** Instead of images: embedding sequences made by our own image pipeline (see {@link VisionContext.encodeImages}). */
    embeddings?: NativeEmbeddings[];
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
     * (~17 ms a token for Qwen2's 151,936 tokens here); the reference our sampler is tested against.
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
    stopReason: NativeStopReason;
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
}

/** The context's operations without queueing, inside {@link VisionContext.exclusive}. */
export interface DirectContext {
    encodeImages(images: NativeImage[], options?: EncodeImagesOptions): Promise<NativeEncodedImage[]>;
    evaluate(options: EvaluateOptions): Promise<NativePrefillResult>;
    generateMany(requests: GenerateOptions[]): Promise<GenerateResult[]>;
    copySequence(source: number, destination: number): Promise<void>;
}

/** One llama_context with N sequence slots. All calls on it queue and run one at a time, off the event loop. */
export class VisionContext {
    readonly #model: VisionModel;
    readonly #native: NativeContext;
    readonly #queue = new OperationQueue();
    readonly #closeListeners: Array<() => void> = [];
    readonly info: NativeContextInfo;
    /** The text model's flash attention and why (the caller's option, 'auto' on a GPU, or measured). */
    readonly flashAttention: FlashAttentionChoice;
    #closing = false;

    private constructor(model: VisionModel, native: NativeContext, flashAttention: FlashAttentionChoice) {
        this.flashAttention = flashAttention;
        this.#model = model;
        this.#native = native;
        this.info = native.info();
    }

    /** @internal use model.createContext() */
    static async create(model: VisionModel, options: VisionContextOptions): Promise<VisionContext> {
        const sequences = options.sequences ?? 1;
        const perSequence = options.contextSize ?? 4096;
        const threads = options.threads ?? defaultThreads();
        const gpu = model.info.gpuBackend !== 'cpu';
        const shape = model.textAttention;
        const quantizedCache = options.cacheType !== undefined && options.cacheType.startsWith('q');
        const ubatchSize =
            options.ubatchSize ??
            (gpu ? undefined : Math.min(CPU_UBATCH, perSequence * sequences, options.batchSize ?? CPU_UBATCH));
        const work = {
            promptTokens: Math.min(PROBE_PROMPT_TOKENS, perSequence),
            generatedTokens: PROBE_GENERATED_TOKENS,
            ubatch: ubatchSize ?? Math.min(512, perSequence * sequences),
        };
        const flashAttention: FlashAttentionChoice =
            quantizedCache && options.flashAttention === undefined
                ? { value: 'auto', source: 'default' }
                : await resolveFlashAttention(
                      options.flashAttention,
                      gpu,
                      shape && (() => measureFlashAttention(model.addon, shape, textWorkload(shape, work), threads)),
                  );
        const native = await model.native.createContext({
            contextSize: perSequence * sequences,
            sequences,
            batchSize: options.batchSize,
            ubatchSize,
            threads,
            threadsBatch: threads,
            flashAttention: flashAttention.value,
            cacheTypeK: options.cacheType,
            cacheTypeV: options.cacheType,
            // Separate KV streams per sequence: with one unified cache every sequence's attention spans all
            // sequences' cells (measured: 4 parallel assessments slower than 4 in a row). One sequence: same.
            kvUnified: options.kvUnified ?? sequences === 1,
        });
        return new VisionContext(model, native, flashAttention);
    }

    get model(): VisionModel {
        return this.#model;
    }

    get closed(): boolean {
        return this.#closing || this.#native.closed;
    }

    /** @internal */
    onClose(listener: () => void): void {
        this.#closeListeners.push(listener);
    }

    /** Evaluates a prompt into a sequence without generating (a prefix that other calls keep or copy). */
    evaluate(options: EvaluateOptions): Promise<NativePrefillResult> {
        return this.#enqueue(() => this.#evaluateNow(options));
    }

    /** Prefills the prompt and generates until end of generation, maxTokens, or abort. */
    async generate(options: GenerateOptions): Promise<GenerateResult> {
        const [result] = await this.generateMany([options]);
        return result!;
    }

    /**
     * Several generations at once, one sequence slot each: prompts are prefilled one after another, then
     * the decode steps of all live sequences run batched, each with its own sampler and grammar.
     */
    generateMany(requests: GenerateOptions[]): Promise<GenerateResult[]> {
        return this.#enqueue(() => this.#generateManyNow(requests));
    }

    /**
     * Runs images through the vision encoder and projector alone and returns their embeddings, for an image
     * pipeline that arranges the features itself (then given to a prompt as `embeddings`). Each image must be
     * at most the encoder's input size (`model.vision.imageSize`), so that mtmd does not tile it.
     */
    encodeImages(images: NativeImage[], options?: EncodeImagesOptions): Promise<NativeEncodedImage[]> {
        return this.#enqueue(() => this.#encodeImagesNow(images, options));
    }

    /**
     * Runs several operations as one: nothing else queued on this context runs in between (e.g. scoring
     * that evaluates a prompt, then several continuations of it in the same sequence).
     */
    exclusive<T>(operation: (direct: DirectContext) => Promise<T>): Promise<T> {
        return this.#enqueue(() =>
            operation({
                encodeImages: (images, o) => this.#encodeImagesNow(images, o),
                evaluate: (o) => this.#evaluateNow(o),
                generateMany: (r) => this.#generateManyNow(r),
                copySequence: async (a, b) => this.#native.copySequence(a, b),
            }),
        );
    }

    /**
     * Streams one generation: yields `{ type: 'token' }` events as tokens come, then `{ type: 'done' }`.
     * Breaking out of the loop aborts the generation.
     */
    async *stream(
        options: Omit<GenerateOptions, 'onToken'>,
    ): AsyncGenerator<{ type: 'token'; token: number; text: string } | { type: 'done'; result: GenerateResult }> {
        const controller = new AbortController();
        const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
        const pending: Array<{ token: number; text: string }> = [];
        let wake: (() => void) | undefined;
        let finished = false;
        const run = this.generate({
            ...options,
            signal,
            onToken: (t) => {
                pending.push(t);
                wake?.();
            },
        }).finally(() => {
            finished = true;
            wake?.();
        });
        run.catch(() => undefined);
        try {
            while (true) {
                while (pending.length > 0) yield { type: 'token', ...pending.shift()! };
                if (finished) break;
                await new Promise<void>((resolve) => (wake = resolve));
                wake = undefined;
            }
            yield { type: 'done', result: await run };
        } finally {
            if (!finished) {
                controller.abort();
                await run.catch(() => undefined);
            }
        }
    }

    /** Forgets a sequence's cells (all sequences when omitted), from `fromPosition` on. */
    clearSequence(sequence?: number, fromPosition?: number): Promise<void> {
        return this.#enqueue(async () => this.#native.clearSequence(sequence, fromPosition));
    }

    /** Makes `destination` share `source`'s cells (e.g. one evaluated image prefix, several policies). */
    copySequence(source: number, destination: number): Promise<void> {
        return this.#enqueue(async () => this.#native.copySequence(source, destination));
    }

    /** Stops what runs (at the next token), waits for queued work, frees the context. Safe to call twice. */
    async close(): Promise<void> {
        if (this.#closing) return this.#queue.idle();
        this.#closing = true;
        this.#native.close();
        await this.#queue.idle();
        for (const l of this.#closeListeners.splice(0)) l();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }

    async #encodeImagesNow(images: NativeImage[], options: EncodeImagesOptions = {}): Promise<NativeEncodedImage[]> {
        const abort = nativeAbortFor(options.signal);
        try {
            return await this.#native.encodeImages({ images, abort: abort.handle });
        } catch (error) {
            if ((error as { code?: string }).code === 'ABORT_ERR') throw new AbortError();
            throw error;
        } finally {
            abort.dispose();
        }
    }

    async #evaluateNow(options: EvaluateOptions): Promise<NativePrefillResult> {
        const abort = nativeAbortFor(options.signal);
        try {
            return await this.#native.evaluate({
                sequence: options.sequence ?? 0,
                nPast: options.keepPrefix ?? 0,
                prompt: toNativePrompt(options.prompt),
                abort: abort.handle,
                logits: options.logits ?? false,
            });
        } catch (error) {
            if ((error as { code?: string }).code === 'ABORT_ERR') throw new AbortError();
            throw error;
        } finally {
            abort.dispose();
        }
    }

    async #generateManyNow(requests: GenerateOptions[]): Promise<GenerateResult[]> {
        const started = performance.now();
        const aborts = requests.map((r) => nativeAbortFor(r.signal));
        const decoders = requests.map(() => new TokenTextDecoder());
        // Token callbacks and the completion travel on different libuv handles: the result can arrive
        // before the last tokens' callbacks, so wait until each request has seen all its tokens.
        const delivered = requests.map(() => 0);
        let onDelivered: (() => void) | undefined;
        try {
            const results = await this.#native.generate(
                requests.map((r, i) => ({
                    sequence: r.sequence ?? i,
                    nPast: r.keepPrefix ?? 0,
                    prompt: toNativePrompt(r.prompt),
                    maxTokens: r.maxTokens ?? 256,
                    abort: aborts[i]!.handle,
                    sampler: {
                        grammar: r.grammar,
                        temperature: r.temperature,
                        topK: r.topK,
                        topP: r.topP,
                        seed: r.seed ?? Math.floor(Math.random() * 0xffffffff),
                        jumpForward: r.jumpForward ?? true,
                        referenceSampler: r.referenceSampler ?? false,
                        ...(r.drafts !== undefined ? { drafts: draftsArray(r.drafts) } : {}),
                    },
                })),
                (index, token, piece) => {
                    delivered[index]!++;
                    const text = decoders[index]!.push(piece);
                    try {
                        requests[index]!.onToken?.({ token, text });
                    } finally {
                        onDelivered?.();
                    }
                },
            );
            while (results.some((r, i) => delivered[i]! < r.tokens.length)) {
                await new Promise<void>((resolve) => (onDelivered = resolve));
            }
            const totalMs = performance.now() - started;
            return results.map((r, i) => toResult(r, decoders[i]!.finish(), totalMs));
        } finally {
            for (const a of aborts) a.dispose();
        }
    }

    #enqueue<T>(operation: () => Promise<T>): Promise<T> {
        if (this.#closing) return Promise.reject(new ClosedError('context'));
        return this.#queue.run(async () => {
            if (this.#native.closed) throw new ClosedError('context');
            return operation();
        });
    }
}

// The native side checks each entry; here a string is kept from being spread into characters.
function draftsArray(drafts: readonly string[]): string[] {
    if (!Array.isArray(drafts)) throw new TypeError("option 'drafts' must be an array of strings");
    return [...drafts];
}

function toNativePrompt(p: Prompt) {
    if (!p || typeof p !== 'object') throw new TypeError('prompt must be an object { text, images } or { tokens }');
    return {
        text: p.text,
        images: p.images,
        embeddings: p.embeddings,
        tokens: p.tokens,
        addSpecial: p.addSpecial ?? false,
        parseSpecial: true,
    };
}

function toResult(r: NativeGenerateResult, text: string, totalMs: number): GenerateResult {
    if (r.stopReason === 'error') throw new Error(r.error ?? 'generation failed');
    return {
        text,
        tokens: r.tokens,
        stopReason: r.stopReason,
        promptTokens: r.promptTokens,
        imageTokens: r.imageTokens,
        nPast: r.nPast,
        forwardPasses: { prefill: r.prefillForwardPasses, decode: r.forwardPasses },
        forcedTokens: r.forcedTokens,
        draftTokens: { proposed: r.draftTokens, accepted: r.draftTokensAccepted },
        timings: { imageMs: r.imageMs, promptMs: r.promptMs, decodeMs: r.decodeMs, totalMs },
    };
}
