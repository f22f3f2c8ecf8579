/**
 * Runs operations one at a time, in call order: a llama.cpp context is not re-entrant, and concurrent calls
 * on one guard must queue rather than fail.
 */
export class OperationQueue {
    #tail: Promise<unknown> = Promise.resolve();

    run<T>(operation: () => Promise<T>): Promise<T> {
        const result = this.#tail.then(operation, operation);
        this.#tail = result.then(
            () => undefined,
            () => undefined,
        );
        return result;
    }

    /** Resolves once everything queued so far has settled. */
    idle(): Promise<void> {
        return this.#tail.then(() => undefined);
    }
}
