import type { GenerateResult } from './VisionContext.js';

/**
 * Raised when an operation is cancelled through its AbortSignal before it produced a result: the one abort
 * convention of the library (evaluate, encode, generate through the Scheduler, every LlavaGuard method).
 */
export class AbortError extends Error {
    override name = 'AbortError';
    readonly code = 'ABORT_ERR';
    /** For a generation: what it had generated when the abort stopped it. */
    readonly partial: GenerateResult | undefined;
    constructor(message = 'the operation was aborted', options?: { partial?: GenerateResult }) {
        super(message);
        this.partial = options?.partial;
    }
}

/** Raised for an object used after close(). */
export class ClosedError extends Error {
    override name = 'ClosedError';
    constructor(what: string) {
        super(`the ${what} is closed`);
    }
}

/** A model or mmproj file that cannot be used, with the reason. */
export class ModelLoadError extends Error {
    override name = 'ModelLoadError';
    constructor(message: string, options?: { cause?: unknown }) {
        super(message, options);
    }
}
