import type { GenerateOptions, GenerateResult } from './VisionContext.js';

export type GenerationEvent = { type: 'token'; token: number; text: string } | { type: 'done'; result: GenerateResult };

/**
 * One generation as an async iterator: `run` starts it (with a token callback and a signal that also fires when
 * the consumer stops early); tokens are yielded as they come, then `{ type: 'done' }`. Breaking out of the loop
 * aborts the generation; a rejection of `run` is thrown from the loop.
 */
export async function* generationStream(
    run: (request: GenerateOptions) => Promise<GenerateResult>,
    options: Omit<GenerateOptions, 'onToken'>,
): AsyncGenerator<GenerationEvent> {
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const pending: Array<{ token: number; text: string }> = [];
    let wake: (() => void) | undefined;
    let finished = false;
    const running = run({
        ...options,
        signal,
        onToken: (t) => {
            pending.push(t);
            wake?.();
        },
    }).finally(() => {
        finished = true;
        wake?.();
    });
    running.catch(() => undefined);
    try {
        while (true) {
            while (pending.length > 0) yield { type: 'token', ...pending.shift()! };
            if (finished) break;
            await new Promise<void>((resolve) => {
                wake = resolve;
            });
            wake = undefined;
        }
        yield { type: 'done', result: await running };
    } finally {
        if (!finished) {
            controller.abort();
            await running.catch(() => undefined);
        }
    }
}
