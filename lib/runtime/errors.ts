/** Raised when an operation is cancelled through its AbortSignal before it produced a result. */
export class AbortError extends Error {
    override name = 'AbortError';
    readonly code = 'ABORT_ERR';
    constructor(message = 'the operation was aborted') {
        super(message);
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
