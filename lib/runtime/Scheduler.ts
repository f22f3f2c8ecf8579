// The one route from the library's public methods to a context. Generations run batched over the context's
// sequence slots, with continuous batching: one native decode loop (decode-loop.ts) runs while any generation is
// live, and a generation that arrives while it runs joins it between two decode steps as soon as a slot is free
// (its prompt prefilled there, then its steps batched with the others'); a finished one frees its slot for the
// next. An image's encoding runs between the loop's decode steps (it touches only the vision encoder). Work that
// needs the context to itself (score mode's prefill and continuations, a prefix shared between policies) runs as
// an exclusive task in the same FIFO: while one waits, no generation is admitted, the loop drains, the task runs,
// then a new loop takes what waits. A server submits here as LlavaGuard does.
//
// Aborts follow one convention: an aborted request rejects with AbortError (a generation's carries what it had
// generated as `partial`), also while it waits in the queue.
import { abortedAsError, checkNotAborted } from './abort.js';
import { AbortError } from './errors.js';
import { generationStream, type GenerationEvent } from './generation-stream.js';
import type { EncodedImage, EncodedImageHandle, ImagePixels } from './types.js';
import type { DecodeLoop, LoopEntry } from './decode-loop.js';
import { copiedOut } from './native-requests.js';
import type {
    DirectContext,
    EncodeImagesOptions,
    GenerateOptions,
    GenerateResult,
    VisionContext,
} from './VisionContext.js';

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
    /** Sequence slots no generation holds. */
    readonly #freeSlots: number[];
    /** Generations in the loop, by id. */
    readonly #admitted = new Map<number, Waiting & { sequence: number }>();
    #nextId = 0;
    /** The loop, from when it was queued to its end. */
    #loop: DecodeLoop | undefined;

    constructor(context: VisionContext) {
        this.#context = context;
        this.#freeSlots = Array.from({ length: context.info.sequences }, (_, i) => i);
    }

    get context(): VisionContext {
        return this.#context;
    }

    /** Generations waiting for a sequence slot. */
    get waiting(): number {
        return this.#waiting.length;
    }

    /** One generation, decoded together with the others live at the same time (joining them between steps). */
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
            this.#pump();
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

    /**
     * Runs images through the vision encoder (an image pipeline's ImageEncoder). Not an exclusive task: it runs
     * between the running loop's decode steps, so a new request's image is encoded while the others decode.
     */
    async encodeImages(images: ImagePixels[], options: EncodeImagesOptions = {}): Promise<EncodedImage[]> {
        return copiedOut(await this.encodeImageHandles(images, options));
    }

    /** As encodeImages, the embeddings left in native memory for a prompt to take (the caller disposes them). */
    async encodeImageHandles(images: ImagePixels[], options: EncodeImagesOptions = {}): Promise<EncodedImageHandle[]> {
        checkNotAborted(options.signal);
        return this.#context.encodeBesideQueue(images, options);
    }

    /** Places waiting generations: into the running loop while slots are free, else into a new loop. */
    #pump(): void {
        if (this.#waiting.length === 0) return;
        if (this.#loop === undefined) {
            const { loop, done } = this.#context.decodeLoop({
                take: () => this.#take(),
                finished: (id, outcome) => this.#finished(id, outcome),
                returned: (entry) => this.#putBack(entry),
            });
            this.#loop = loop;
            done.then(
                () => this.#loopEnded(loop),
                (error) => {
                    // the context closed or the loop failed before it took anything: what waits cannot run
                    for (const w of this.#waiting.splice(0)) {
                        w.detach();
                        w.reject(error);
                    }
                    this.#loopEnded(loop);
                },
            );
            return;
        }
        // An exclusive task waits for the context: admit nothing more, so that the loop drains.
        if (!this.#loop.open || this.#context.queuedOperations > 0) return;
        for (const entry of this.#take()) {
            let admitted = false;
            try {
                admitted = this.#loop.admit(entry);
            } catch (error) {
                this.#finished(entry.id, error as Error);
                continue;
            }
            if (!admitted) this.#putBack(entry);
        }
    }

    /** Waiting generations into the free slots, in arrival order. */
    #take(): LoopEntry[] {
        const entries: LoopEntry[] = [];
        while (this.#waiting.length > 0 && this.#freeSlots.length > 0) {
            const w = this.#waiting.shift()!;
            w.detach(); // from here the native abort handle follows the signal
            const sequence = this.#freeSlots.shift()!;
            const id = this.#nextId++;
            this.#admitted.set(id, { ...w, sequence });
            entries.push({ id, sequence, request: { ...w.request, sequence } });
        }
        return entries;
    }

    /** A generation the loop could not take (it was ending): first in line for the next one. */
    #putBack(entry: LoopEntry): void {
        const w = this.#admitted.get(entry.id)!;
        this.#admitted.delete(entry.id);
        this.#freeSlots.unshift(w.sequence);
        const { signal } = w.request;
        if (signal?.aborted) {
            w.reject(new AbortError());
            return;
        }
        this.#waiting.unshift(w);
    }

    #finished(id: number, outcome: GenerateResult | Error): void {
        const w = this.#admitted.get(id);
        if (!w) return;
        this.#admitted.delete(id);
        this.#freeSlots.push(w.sequence);
        this.#freeSlots.sort((a, b) => a - b);
        if (outcome instanceof Error) w.reject(outcome);
        else {
            try {
                w.resolve(abortedAsError(outcome));
            } catch (error) {
                w.reject(error);
            }
        }
        this.#pump();
    }

    #loopEnded(loop: DecodeLoop): void {
        if (this.#loop !== loop) return;
        this.#loop = undefined;
        this.#pump();
    }
}
