// The Scheduler's continuous decode loop over one context (see README.md, "Continuous batching"): one native
// generation in continuous mode, queued as a single operation on the context. Its first generations are taken
// when the context gets to it; more join through admit() between decode steps while it runs, each in a free
// sequence slot; each finishes on its own (the native side clears its slot and sends its result right after its
// last token).
import type {
    NativeAbortHandle,
    NativeContext,
    NativeGenerateRequest,
    NativeGenerateResult,
} from '../bindings/AddonTypes.js';
import { nativeAbortFor } from './abort.js';
import type { GenerateOptions, GenerateResult } from './context-types.js';
import { TokenTextDecoder } from './TokenTextDecoder.js';

/** A generation placed in a sequence slot, with the id its events carry. */
export interface LoopEntry {
    id: number;
    sequence: number;
    request: GenerateOptions;
}

export interface DecodeLoopHooks {
    /** The generations to start with, asked when the loop starts (everything that waits then). */
    take(): LoopEntry[];
    /** A generation ended: its result, or why it failed. Its slot is free again. */
    finished(id: number, outcome: GenerateResult | Error): void;
    /** A generation the loop did not take (it ended first): it waits for the next loop. */
    returned(entry: LoopEntry): void;
}

export interface DecodeLoopConverters {
    request(r: GenerateOptions, sequence: number, abort: NativeAbortHandle): NativeGenerateRequest;
    result(r: NativeGenerateResult, text: string, totalMs: number): GenerateResult;
}

interface Running {
    entry: LoopEntry;
    decoder: TokenTextDecoder;
    abort: { dispose(): void };
    started: number;
}

export class DecodeLoop {
    readonly #native: NativeContext;
    readonly #convert: DecodeLoopConverters;
    readonly #hooks: DecodeLoopHooks;
    readonly #running = new Map<number, Running>();
    #open = false;
    #allDone: (() => void) | undefined;

    constructor(native: NativeContext, convert: DecodeLoopConverters, hooks: DecodeLoopHooks) {
        this.#native = native;
        this.#convert = convert;
        this.#hooks = hooks;
    }

    /** Whether admit() can still add to the running loop. */
    get open(): boolean {
        return this.#open;
    }

    /**
     * Adds a generation to the running loop (false when it is not running or has ended: the caller keeps it
     * for the next loop). Throws for a request the native side refuses, which then never ran.
     */
    admit(entry: LoopEntry): boolean {
        if (!this.#open) return false;
        const request = this.#prepare(entry);
        let admitted = false;
        try {
            admitted = this.#native.admit([request]);
        } finally {
            if (!admitted) this.#forget(entry.id);
        }
        return admitted;
    }

    /**
     * The operation queued on the context: runs until no generation is live and none waits. The native loop
     * starts with the first generation the native side accepts; the others join it as admitted ones do, so that
     * a request it refuses fails alone.
     */
    async run(): Promise<void> {
        const entries = this.#hooks.take();
        let done: Promise<unknown> | undefined;
        while (!done && entries.length > 0) {
            const entry = entries.shift()!;
            try {
                const request = this.#prepare(entry);
                done = this.#native.generate(
                    [request],
                    (id, token, piece, result) => this.#event(id, token, piece, result),
                    {
                        continuous: true,
                    },
                );
            } catch (error) {
                this.#fail(entry, error as Error);
            }
        }
        if (!done) return;
        this.#open = true;
        for (const entry of entries) {
            try {
                if (!this.admit(entry)) this.#hooks.returned(entry);
            } catch (error) {
                this.#fail(entry, error as Error);
            }
        }
        try {
            await done;
        } catch (error) {
            this.#open = false;
            for (const run of [...this.#running.values()]) this.#fail(run.entry, error as Error);
            return;
        } finally {
            this.#open = false;
        }
        // The completion and the events travel on different libuv handles: wait for the last results.
        if (this.#running.size > 0) await new Promise<void>((resolve) => (this.#allDone = resolve));
    }

    #prepare(entry: LoopEntry): NativeGenerateRequest {
        const abort = nativeAbortFor(entry.request.signal);
        this.#running.set(entry.id, { entry, decoder: new TokenTextDecoder(), abort, started: performance.now() });
        try {
            return { ...this.#convert.request(entry.request, entry.sequence, abort.handle), id: entry.id };
        } catch (error) {
            this.#forget(entry.id);
            throw error;
        }
    }

    #event(id: number, token: number, piece: Buffer, result: NativeGenerateResult | undefined): void {
        const run = this.#running.get(id);
        if (!run) return;
        if (result === undefined) {
            const text = run.decoder.push(piece);
            run.entry.request.onToken?.({ token, text });
            return;
        }
        this.#forget(id);
        let outcome: GenerateResult | Error;
        try {
            outcome = this.#convert.result(result, run.decoder.finish(), performance.now() - run.started);
        } catch (error) {
            outcome = error as Error;
        }
        this.#hooks.finished(id, outcome);
        if (this.#running.size === 0) this.#allDone?.();
    }

    #fail(entry: LoopEntry, error: Error): void {
        this.#forget(entry.id);
        this.#hooks.finished(entry.id, error);
    }

    #forget(id: number): void {
        this.#running.get(id)?.abort.dispose();
        this.#running.delete(id);
    }
}
