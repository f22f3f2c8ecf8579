import { defaultThreads } from './threads.js';
import type { NativeContext } from '../bindings/AddonTypes.js';
import { DecodeLoop, type DecodeLoopHooks } from './decode-loop.js';
import type { ContextInfo, EncodedImage, EncodedImageHandle, ImagePixels, PrefillResult } from './types.js';
import { nativeAbortFor, warnLegacyAbort } from './abort.js';
import { generationStream, type GenerationEvent } from './generation-stream.js';
import { AbortError, ClosedError } from './errors.js';
import { OperationQueue } from './OperationQueue.js';
import { copiedOut, nativeGenerateRequest, toNativePrompt, toResult } from './native-requests.js';
import { checkKvCacheFits, type KvShape, kvShapeFromMetadata } from './validate/kv-cache.js';
import { TokenTextDecoder } from './TokenTextDecoder.js';
import type { VisionModel } from './VisionModel.js';
import {
    measureFlashAttention,
    resolveFlashAttention,
    textWorkload,
    type FlashAttentionChoice,
} from './flash-attention-choice.js';

/** Generated tokens of the default probe workload (the caller's `workload` replaces it). */
const DEFAULT_WORKLOAD_GENERATED = 64;
/** The CPU's default micro-batch (see VisionContextOptions.ubatchSize). */
export const CPU_UBATCH = 128;
export type {
    ContextWorkload,
    DirectContext,
    EncodeImagesOptions,
    EvaluateOptions,
    GenerateOptions,
    GenerateResult,
    GenerateTimings,
    Prompt,
    SamplingOptions,
    VisionContextOptions,
} from './context-types.js';
import type {
    DirectContext,
    EncodeImagesOptions,
    EvaluateOptions,
    GenerateOptions,
    GenerateResult,
    VisionContextOptions,
} from './context-types.js';

/** One llama_context with N sequence slots. All calls on it queue and run one at a time, off the event loop. */
export class VisionContext {
    readonly #model: VisionModel;
    readonly #native: NativeContext;
    readonly #queue = new OperationQueue();
    readonly #closeListeners: Array<() => void> = [];
    readonly info: ContextInfo;
    /** The text model's flash attention and why (the caller's option, 'auto' on a GPU, or measured). */
    readonly flashAttention: FlashAttentionChoice;
    #closing = false;
    /** Encodes that run beside the queue (see encodeBesideQueue), awaited by close(). */
    readonly #besideQueue = new Set<Promise<unknown>>();

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
        // A CPU context's KV cache is anonymous memory that llama.cpp clears at once: one larger than the memory
        // available ends in the OOM killer, not an error, so it is priced first (ResourceLimitError).
        const kvShape = gpu ? undefined : kvShapeOrUndefined(model.info.metadata);
        if (kvShape)
            checkKvCacheFits(kvShape, {
                contextSize: perSequence * sequences,
                cacheTypeK: options.cacheType,
                cacheTypeV: options.cacheType,
            });
        const shape = model.textAttention;
        const quantizedCache = options.cacheType?.startsWith('q') === true;
        const ubatchSize =
            options.ubatchSize ??
            (gpu ? undefined : Math.min(CPU_UBATCH, perSequence * sequences, options.batchSize ?? CPU_UBATCH));
        const work = {
            promptTokens: Math.min(options.workload?.promptTokens ?? Math.floor(perSequence / 2), perSequence),
            generatedTokens: options.workload?.generatedTokens ?? DEFAULT_WORKLOAD_GENERATED,
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
    evaluate(options: EvaluateOptions): Promise<PrefillResult> {
        return this.#enqueue(() => this.#evaluateNow(options));
    }

    /**
     * Prefills the prompt and generates until end of generation, maxTokens, or abort. An abort resolves with
     * stopReason 'abort' (deprecated: the library's convention is AbortError, as {@link Scheduler} gives).
     */
    async generate(options: GenerateOptions): Promise<GenerateResult> {
        const [result] = await this.generateMany([options]);
        return result!;
    }

    /**
     * Several generations at once, one sequence slot each: prompts are prefilled one after another, then
     * the decode steps of all live sequences run batched, each with its own sampler and grammar.
     */
    generateMany(requests: GenerateOptions[]): Promise<GenerateResult[]> {
        return this.#enqueue(async () => {
            const results = await this.#generateManyNow(requests);
            warnLegacyAbort(results);
            return results;
        });
    }

    /**
     * Runs images through the vision encoder and projector alone and returns their embeddings, for an image
     * pipeline that arranges the features itself (then given to a prompt as `embeddings`). Each image must be
     * at most the encoder's input size (`model.vision.imageSize`), so that mtmd does not tile it.
     */
    encodeImages(images: ImagePixels[], options?: EncodeImagesOptions): Promise<EncodedImage[]> {
        return this.#enqueue(() => this.#encodeImagesNow(images, options));
    }

    /**
     * As {@link encodeImages}, with the embeddings left in native memory: a prompt takes the handles as its
     * `embeddings` without copying them. The caller disposes them (or leaves them to the garbage collector).
     */
    encodeImageHandles(images: ImagePixels[], options?: EncodeImagesOptions): Promise<EncodedImageHandle[]> {
        return this.#enqueue(() => this.#encodeImageHandlesNow(images, options));
    }

    /**
     * @internal the Scheduler's encodes: not queued behind this context's operations. The native encoder uses only
     * the model's vision context, never the llama_context, and runs between the steps of a running decode loop
     * (native/util/compute-thread.h), so a new request's image need not wait for the loop to drain.
     */
    encodeBesideQueue(images: ImagePixels[], options?: EncodeImagesOptions): Promise<EncodedImageHandle[]> {
        if (this.#closing) return Promise.reject(new ClosedError('context'));
        const encoding = this.#encodeImageHandlesNow(images, options);
        this.#besideQueue.add(encoding);
        const forget = () => this.#besideQueue.delete(encoding);
        encoding.then(forget, forget);
        return encoding;
    }

    /**
     * Runs several operations as one: nothing else queued on this context runs in between (e.g. scoring
     * that evaluates a prompt, then several continuations of it in the same sequence).
     */
    exclusive<T>(operation: (direct: DirectContext) => Promise<T>): Promise<T> {
        return this.#enqueue(() =>
            operation({
                encodeImages: (images, o) => this.#encodeImagesNow(images, o),
                encodeImageHandles: (images, o) => this.#encodeImageHandlesNow(images, o),
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
    stream(options: Omit<GenerateOptions, 'onToken'>): AsyncGenerator<GenerationEvent> {
        return generationStream((r) => this.generate(r), options);
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
        await Promise.allSettled([...this.#besideQueue]);
        for (const l of this.#closeListeners.splice(0)) l();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }

    async #encodeImagesNow(images: ImagePixels[], options: EncodeImagesOptions = {}): Promise<EncodedImage[]> {
        return copiedOut(await this.#encodeImageHandlesNow(images, options));
    }

    async #encodeImageHandlesNow(
        images: ImagePixels[],
        options: EncodeImagesOptions = {},
    ): Promise<EncodedImageHandle[]> {
        const batch = options.batch ?? 1;
        if (!Number.isInteger(batch) || batch < 1 || batch > 64) {
            throw new RangeError(`option 'batch' must be an integer from 1 to 64, got ${String(options.batch)}`);
        }
        const abort = nativeAbortFor(options.signal);
        try {
            return await this.#native.encodeImages({ images, batch, abort: abort.handle });
        } catch (error) {
            if ((error as { code?: string }).code === 'ABORT_ERR') throw new AbortError();
            throw error;
        } finally {
            abort.dispose();
        }
    }

    async #evaluateNow(options: EvaluateOptions): Promise<PrefillResult> {
        const abort = nativeAbortFor(options.signal);
        try {
            return await this.#native.evaluate({
                sequence: options.sequence ?? 0,
                nPast: options.keepPrefix ?? 0,
                prompt: toNativePrompt(options.prompt, this.#model),
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
                requests.map((r, i) => nativeGenerateRequest(r, r.sequence ?? i, aborts[i]!.handle, this.#model)),
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

    /**
     * @internal the Scheduler's continuous decode loop (decode-loop.ts), queued as one operation: generations
     * join it between decode steps while it runs.
     */
    decodeLoop(hooks: DecodeLoopHooks): { loop: DecodeLoop; done: Promise<void> } {
        const loop = new DecodeLoop(
            this.#native,
            {
                request: (r, sequence, abort) => nativeGenerateRequest(r, sequence, abort, this.#model),
                result: toResult,
            },
            hooks,
        );
        return { loop, done: this.exclusive(() => loop.run()) };
    }

    /** @internal operations queued on this context that have not started (the Scheduler then stops admitting). */
    get queuedOperations(): number {
        return this.#queue.waiting;
    }

    #enqueue<T>(operation: () => Promise<T>): Promise<T> {
        if (this.#closing) return Promise.reject(new ClosedError('context'));
        return this.#queue.run(async () => {
            if (this.#native.closed) throw new ClosedError('context');
            return operation();
        });
    }
}

/** The KV cache's shape, where the metadata says it in the keys llama.cpp's llama-like models use. */
function kvShapeOrUndefined(metadata: Record<string, string>): KvShape | undefined {
    try {
        return kvShapeFromMetadata(metadata);
    } catch {
        return undefined; // an architecture we cannot price: llama.cpp's own allocation error stands
    }
}
