// What a fuzz target may throw: the typed errors the code documents for bad input. Anything else (a TypeError
// from a read past an end, a RangeError from an allocation, an error without its type) is a finding, and is
// rethrown so that the fuzzer records the input.

// biome-ignore lint/suspicious/noExplicitAny: any error class, whatever its constructor takes
export type ErrorClass = abstract new (...args: any[]) => Error;

/** Runs `run`; a throw of one of `allowed` is the expected refusal (returns false), anything else propagates. */
export async function refusedOnlyWith<T>(
    run: () => T | Promise<T>,
    allowed: readonly ErrorClass[],
): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
    try {
        return { ok: true, value: await run() };
    } catch (error) {
        if (allowed.some((c) => error instanceof c) && (error as Error).message.length > 0) {
            return { ok: false, error: error as Error };
        }
        throw error;
    }
}
