import { availableParallelism } from 'node:os';

/**
 * CPU threads when the caller gives none: LLAVAGUARD_THREADS, else one per core. (ggml's worker threads spin
 * while they wait: more threads than free cores makes everything slower, not faster.)
 */
export function defaultThreads(): number {
    const env = Number(process.env.LLAVAGUARD_THREADS);
    return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}
