// A request's AbortSignal: aborted when the client goes away before its answer is sent (its generation stops
// then) or when the server's --timeout-ms passes.
import type { FastifyReply } from 'fastify';
import { ApiError } from './errors.js';

export class ClientGoneError extends Error {
    override readonly name = 'ClientGoneError';
}

export interface RequestSignal {
    signal: AbortSignal;
    /** The error to answer with for an abort that came from this signal (504 on timeout). */
    asApiError(error: unknown): unknown;
    done(): void;
}

export function requestSignal(reply: FastifyReply, timeoutMs: number): RequestSignal {
    const controller = new AbortController();
    const onClose = () => {
        if (!reply.raw.writableFinished) controller.abort(new ClientGoneError('the client closed the connection'));
    };
    reply.raw.once('close', onClose);
    const timer =
        timeoutMs > 0
            ? setTimeout(
                  () =>
                      controller.abort(
                          new ApiError(504, `The assessment took longer than the server's limit of ${timeoutMs} ms`, {
                              type: 'timeout_error',
                              code: 'timeout',
                          }),
                      ),
                  timeoutMs,
              )
            : undefined;
    return {
        signal: controller.signal,
        asApiError: (error) => (controller.signal.aborted ? controller.signal.reason : error),
        done: () => {
            clearTimeout(timer);
            reply.raw.off('close', onClose);
        },
    };
}
