// The one route from the library's public methods to a context. Generations wait here and run batched over the
// context's sequence slots (prompts prefilled one after another, the decode steps of all of them in one
// llama_decode); work that needs the context to itself (an image's encoding, score mode's prefill and
// continuations, a prefix shared between policies) runs as an exclusive task in the same FIFO. A server submits
// here as LlavaGuard does. A batch is formed when the context gets to it, from everything waiting then;
// continuous batching (admitting requests between decode steps) would change #runBatch alone.
//
// Aborts follow one convention: an aborted request rejects with AbortError (a generation's carries what it had
// generated as `partial`), also while it waits in the queue.
import { abortedAsError, checkNotAborted } from './abort.js';
import { AbortError } from './errors.js';
import { generationStream, type GenerationEvent } from './generation-stream.js';
import type { EncodedImage, EncodedImageHandle, ImagePixels } from './types.js';
import type { DirectContext, GenerateOptions, GenerateResult, VisionContext } from './VisionContext.js';

/** A generation the scheduler places in a sequence slot of its choosing. */
export type ScheduledGeneration = Omit<GenerateOptions, 'sequence' | 'keepPrefix'>;

interface Waiting {
    request: ScheduledGeneration;
    resolve(result: GenerateResult): void;
    reject(error: unknown): void;
    detach(): void;
}

export class Scheduler {
    readonly #context: VisionContext;
    readonly #waiting: Waiting[] = [];
    #batchQueued = false;

    constructor(context: VisionContext) {
        this.#context = context;
    }

    get context(): VisionContext {
        return this.#context;
    }

    /** Generations waiting for a batch. */
    get waiting(): number {
        return this.#waiting.length;
    }

    /** One generation, decoded together with those waiting at the same time. */
    generate(request: ScheduledGeneration): Promise<GenerateResult> {
        const r = request as GenerateOptions;
        if (r.sequence !== undefined || r.keepPrefix !== undefined)
            throw new TypeError('Scheduler.generate places requests itself: use exclusive() to keep a prefix');
        const { signal } = request;
        return new Promise((resolve, reject) => {
            checkNotAborted(signal);
            const entry: Waiting = { request, resolve, reject, detach: () => {} };
            if (signal) {
                const onAbort = () => {
                    const i = this.#waiting.indexOf(entry);
                    if (i < 0) return; // already running: the native abort handle stops it
                    this.#waiting.splice(i, 1);
                    reject(new AbortError());
                };
                signal.addEventListener('abort', onAbort, { once: true });
                entry.detach = () => signal.removeEventListener('abort', onAbort);
            }
            this.#waiting.push(entry);
            this.#queueBatch();
        });
    }

    /** One generation, its tokens as they come, then `{ type: 'done' }`. Breaking out of the loop aborts it. */
    stream(request: Omit<ScheduledGeneration, 'onToken'>): AsyncGenerator<GenerationEvent> {
        return generationStream((r) => this.generate(r), request);
    }

    /**
     * Runs a task with the context to itself (nothing else runs in between). Inside, `generateMany` follows the
     * abort convention too: it rejects with AbortError when one of its generations was aborted.
     */
    exclusive<T>(task: (direct: DirectContext) => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
        return this.#context.exclusive(async (direct) => {
            checkNotAborted(options.signal);
            return task({
                ...direct,
                generateMany: async (requests) => (await direct.generateMany(requests)).map(abortedAsError),
            });
        });
    }

    /** Runs images through the vision encoder (an image pipeline's ImageEncoder). */
    encodeImages(images: ImagePixels[], options: { signal?: AbortSignal } = {}): Promise<EncodedImage[]> {
        return this.exclusive((direct) => direct.encodeImages(images, options), options);
    }

    /** As encodeImages, the embeddings left in native memory for a prompt to take (the caller disposes them). */
    encodeImageHandles(images: ImagePixels[], options: { signal?: AbortSignal } = {}): Promise<EncodedImageHandle[]> {
        return this.exclusive((direct) => direct.encodeImageHandles(images, options), options);
    }

    #queueBatch(): void {
        if (this.#batchQueued || this.#waiting.length === 0) return;
        this.#batchQueued = true;
        // Taken from the queue only when the context gets to it, so everything that arrived meanwhile joins.
        this.#context
            .exclusive(async (direct) => {
                this.#batchQueued = false;
                await this.#runBatch(direct, this.#waiting.splice(0, this.#context.info.sequences));
                this.#queueBatch();
            })
            .catch((error) => {
                this.#batchQueued = false;
                for (const w of this.#waiting.splice(0)) {
                    w.detach();
                    w.reject(error);
                }
            });
    }

    async #runBatch(direct: DirectContext, batch: Waiting[]): Promise<void> {
        if (batch.length === 0) return; // all of them aborted while waiting
        for (const w of batch) w.detach();
        const settle = (w: Waiting, result: GenerateResult) => {
            try {
                w.resolve(abortedAsError(result));
            } catch (error) {
                w.reject(error);
            }
        };
        try {
            const results = await direct.generateMany(batch.map((w, i) => ({ ...w.request, sequence: i })));
            for (const [i, r] of results.entries()) settle(batch[i]!, r);
        } catch (error) {
            // One bad request must not fail the others: retry them one by one.
            if (batch.length === 1) batch[0]!.reject(error);
            else
                for (const w of batch)
                    await direct.generateMany([{ ...w.request, sequence: 0 }]).then(
                        ([r]) => settle(w, r!),
                        (e) => w.reject(e),
                    );
        }
    }
}
