import type { FlashAttention } from '../bindings/AddonTypes.js';
import type { LlavaGuardLoadOptions } from '../guard/types.js';
import type { ImagePipelineMode } from '../pipeline/types.js';

/** The model flags that assess, scan and eval share. */
export interface ModelCliOptions {
    model: string;
    mmproj: string;
    threads?: number;
    gpuLayers?: number;
    imagePipeline?: ImagePipelineMode;
    flashAttention?: FlashAttention;
}

/** LlavaGuard.load options from the shared flags (--flash-attention sets both parts). */
export function guardLoadOptions(o: ModelCliOptions): LlavaGuardLoadOptions {
    return {
        model: o.model,
        mmproj: o.mmproj,
        threads: o.threads,
        gpuLayers: o.gpuLayers,
        imagePipeline: o.imagePipeline,
        flashAttention: o.flashAttention,
        mmprojFlashAttention: o.flashAttention,
    };
}

/**
 * First Ctrl-C aborts `controller` (the run stops cleanly and keeps what it wrote), the second quits at once.
 * Returns the function that removes the handler.
 */
export function abortOnFirstInterrupt(controller: AbortController, message: string): () => void {
    const onSigint = () => {
        controller.abort();
        process.stderr.write(`\ninterrupted: ${message} (Ctrl-C again to quit at once)\n`);
        process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', onSigint);
    return () => process.off('SIGINT', onSigint);
}
