/**
 * Runs operations one at a time, in call order: a llama.cpp context is not re-entrant, and concurrent calls
 * on one guard must queue rather than fail.
 */
export class OperationQueue {
    #tail: Promise<unknown> = Promise.resolve();
    #waiting = 0;

    /** Operations queued that have not started. */
    get waiting(): number {
        return this.#waiting;
    }

    run<T>(operation: () => Promise<T>): Promise<T> {
        this.#waiting++;
        const start = () => {
            this.#waiting--;
            return operation();
        };
        const result = this.#tail.then(start, start);
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
