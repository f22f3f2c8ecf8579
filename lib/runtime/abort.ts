import type { NativeAbortHandle } from '../bindings/AddonTypes.js';
import { loadAddon } from '../bindings/loadAddon.js';
import { AbortError } from './errors.js';

/** A native abort handle that follows an AbortSignal; dispose() detaches the listener. */
export function nativeAbortFor(signal: AbortSignal | undefined): { handle: NativeAbortHandle; dispose(): void } {
    const handle = new (loadAddon().AbortHandle)();
    if (!signal) return { handle, dispose() {} };
    if (signal.aborted) throw new AbortError();
    const onAbort = () => handle.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    return { handle, dispose: () => signal.removeEventListener('abort', onAbort) };
}
