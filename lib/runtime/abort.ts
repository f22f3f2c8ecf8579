import type { NativeAbortHandle } from '../bindings/AddonTypes.js';
import { loadAddon } from '../bindings/loadAddon.js';
import { AbortError } from './errors.js';
import type { GenerateResult } from './VisionContext.js';

/** A native abort handle that follows an AbortSignal; dispose() detaches the listener. */
export function nativeAbortFor(signal: AbortSignal | undefined): { handle: NativeAbortHandle; dispose(): void } {
    const handle = new (loadAddon().AbortHandle)();
    if (!signal) return { handle, dispose() {} };
    if (signal.aborted) throw new AbortError();
    const onAbort = () => handle.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    return { handle, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/**
 * The native side reports an aborted generation as a result (stopReason 'abort'), so that one aborted request
 * of a batch does not fail the others; callers get the library's convention instead: AbortError, with the
 * partial result attached.
 */
export function abortedAsError(result: GenerateResult): GenerateResult {
    if (result.stopReason === 'abort') throw new AbortError('the generation was aborted', { partial: result });
    return result;
}

/** Rejects with AbortError when the signal is already aborted (our error, not the DOMException of throwIfAborted). */
export function checkNotAborted(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new AbortError();
}

let legacyAbortWarned = false;

/** VisionContext.generate / generateMany / stream still resolve on abort; say once that this will change. */
export function warnLegacyAbort(results: readonly GenerateResult[]): void {
    if (legacyAbortWarned || !results.some((r) => r.stopReason === 'abort')) return;
    legacyAbortWarned = true;
    process.emitWarning(
        "VisionContext.generate/generateMany/stream resolving with stopReason 'abort' is deprecated: the library's " +
            'convention is to reject with AbortError (its `partial` holds the result), as LlavaGuard and Scheduler do',
        { type: 'DeprecationWarning', code: 'LLAVAGUARD_ABORT_RESOLVES' },
    );
}
