// createServer(guard, options): the fastify app of `llavaguard serve`, for apps that embed it too. Routes:
// POST /v1/moderations, POST /v1/chat/completions, GET /v1/models, GET /health (no key), GET /metrics.
// app.close() stops accepting (new requests on open connections get 503), lets running requests finish, then
// resolves; closing the guard stays the caller's job.
import Fastify, {
    type FastifyError,
    type FastifyInstance,
    type FastifyReply,
    type FastifyServerOptions,
} from 'fastify';
import { Policy } from '../policy/index.js';
import { bearerChecker } from './auth.js';
import { chatCompletion, chatCompletionStream, type ChatBody } from './chat-completions.js';
import type { ServedGuard, ServerContext } from './context.js';
import { ApiError } from './errors.js';
import { ServerMetrics } from './metrics.js';
import { moderate, type ModerationBody } from './moderations.js';
import { ClientGoneError, requestSignal } from './request-signal.js';
import { systemResolver, type HostResolver } from './remote-image.js';
import { chatBodySchema, moderationBodySchema } from './schemas.js';
import { WorkQueue } from './work.js';

export interface ServerOptions {
    /** Bearer key every route but /health needs (compared in constant time). Default: none. */
    apiKey?: string;
    /** The policy of requests that name none. Default: the guard's (the wording its model was trained on). */
    policy?: Policy;
    /** Assessments admitted beyond the guard's sequence slots before 429s. Default 64. */
    queueLimit?: number;
    /** Longest time one request may take, in ms, queueing included (504 after it; 0 = no limit). Default 600000, the openai client's own timeout. */
    timeoutMs?: number;
    /** Largest request body in bytes (413). Default 24 MiB. */
    bodyLimit?: number;
    /** Largest encoded image in bytes (413). Default 16 MiB. */
    maxImageBytes?: number;
    /** Largest image in pixels, from its header before decoding (413). Default 40 megapixels. */
    maxImagePixels?: number;
    /** Fetch http(s) image URLs (public addresses only). Default false: data: URLs only. */
    allowRemoteImages?: boolean;
    /** Time limit of one remote image fetch, in ms. Default 10000. */
    remoteImageTimeoutMs?: number;
    /** Host name resolution for remote images (default: the system resolver). */
    resolveHost?: HostResolver;
    /**
     * Which resolved addresses a remote image may come from: the reason to refuse one, or null. Default: public
     * unicast only (no loopback, private, link-local or reserved address).
     */
    refusedAddressReason?: (address: string) => string | null;
    /** fastify's logger option (pino): true, false or pino options. Default false. */
    logger?: FastifyServerOptions['logger'];
}

export const SERVER_DEFAULTS = Object.freeze({
    queueLimit: 64,
    timeoutMs: 600_000,
    bodyLimit: 24 * 1024 * 1024,
    maxImageBytes: 16 * 1024 * 1024,
    maxImagePixels: 40_000_000,
    remoteImageTimeoutMs: 10_000,
});

export async function createServer(guard: ServedGuard, options: ServerOptions = {}): Promise<FastifyInstance> {
    const o = { ...SERVER_DEFAULTS, ...withoutUndefined(options) };
    for (const name of [
        'queueLimit',
        'timeoutMs',
        'bodyLimit',
        'maxImageBytes',
        'maxImagePixels',
        'remoteImageTimeoutMs',
    ] as const)
        if (!Number.isInteger(o[name]) || o[name] < 0) throw new RangeError(`${name} must be a non-negative integer`);
    if (o.policy !== undefined && !(o.policy instanceof Policy)) throw new TypeError('policy must be a Policy');
    const work = new WorkQueue(guard.sequences, o.queueLimit);
    const ctx: ServerContext = {
        guard,
        policy: o.policy ?? guard.defaultPolicy,
        work,
        metrics: new ServerMetrics(work, guard.sequences),
        timeoutMs: o.timeoutMs,
        images: {
            maxImageBytes: o.maxImageBytes,
            maxImagePixels: o.maxImagePixels,
            allowRemoteImages: o.allowRemoteImages ?? false,
            remoteTimeoutMs: o.remoteImageTimeoutMs,
            resolveHost: o.resolveHost ?? systemResolver,
            refusedAddressReason: o.refusedAddressReason,
        },
    };
    const app = Fastify({
        logger: o.logger ?? false,
        bodyLimit: o.bodyLimit,
        return503OnClosing: true,
        forceCloseConnections: 'idle',
        // Types as sent: "5" is not a number, and nothing is dropped or defaulted behind the client's back.
        ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    });
    const checkKey = o.apiKey !== undefined ? bearerChecker(o.apiKey) : undefined;

    app.addHook('onRequest', async (request) => {
        if (checkKey && request.url !== '/health') checkKey(request.headers.authorization);
    });
    app.addHook('onResponse', async (request, reply) => {
        const route = request.routeOptions.url ?? 'unmatched';
        ctx.metrics.request(route, reply.statusCode, reply.elapsedTime / 1000);
    });
    app.setErrorHandler((error: FastifyError | ApiError | Error, request, reply) => {
        const api = toApiError(error);
        if (api.status >= 500) request.log.error({ err: error }, 'request failed');
        else request.log.info({ status: api.status, code: api.code, message: api.message }, 'request refused');
        void reply.code(api.status).headers(api.headers).send(api.toJSON());
    });
    app.setNotFoundHandler((request, reply) => {
        void reply
            .code(404)
            .send(new ApiError(404, `No route ${request.method} ${request.url}`, { code: 'not_found' }).toJSON());
    });

    app.get('/health', async () => ({
        status: 'ok',
        model: guard.modelInfo.name,
        slots: { total: guard.sequences, busy: work.running, context: guard.contextSize },
        queue: work.queued,
    }));

    app.get('/metrics', async (_request, reply) => {
        void reply.header('content-type', ctx.metrics.registry.contentType);
        return ctx.metrics.registry.metrics();
    });

    app.get('/v1/models', async () => ({
        object: 'list',
        data: ['llavaguard', guard.modelInfo.name].map((id) => ({
            id,
            object: 'model',
            created: 0,
            owned_by: 'llavaguard',
        })),
    }));

    app.post<{ Body: ModerationBody }>(
        '/v1/moderations',
        { schema: { body: moderationBodySchema } },
        async (request, reply) =>
            underRequestSignal(reply, ctx.timeoutMs, async (signal) => {
                const response = await moderate(ctx, request.body, signal);
                request.log.info(
                    { images: response.results.length, flagged: response.results.map((r) => r.flagged) },
                    'moderation',
                );
                return response;
            }),
    );

    app.post<{ Body: ChatBody }>('/v1/chat/completions', { schema: { body: chatBodySchema } }, async (request, reply) =>
        underRequestSignal(reply, ctx.timeoutMs, async (signal) => {
            if (request.body.stream) {
                await chatCompletionStream(ctx, request.body, reply, signal);
                return reply;
            }
            const response = await chatCompletion(ctx, request.body, signal);
            request.log.info(
                { rating: response.llavaguard.rating, category: response.llavaguard.category },
                'chat completion',
            );
            return response;
        }),
    );

    await app.ready();
    return app;
}

/** Runs a route's work under the request's signal; an abort it caused (timeout, client gone) is the error answered. */
async function underRequestSignal<T>(
    reply: FastifyReply,
    timeoutMs: number,
    work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
    const s = requestSignal(reply, timeoutMs);
    try {
        return await work(s.signal);
    } catch (error) {
        throw s.asApiError(error);
    } finally {
        s.done();
    }
}

function toApiError(error: FastifyError | ApiError | Error): ApiError {
    if (error instanceof ApiError) return error;
    if (error instanceof ClientGoneError) return new ApiError(499, error.message, { code: 'client_closed_request' });
    const f = error as FastifyError;
    if (f.validation) {
        const param = (f.validationContext ?? 'body') + (f.validation[0]?.instancePath ?? '').replace(/\//g, '.');
        return new ApiError(400, `Invalid request: ${f.message}`, { param, code: 'invalid_type' });
    }
    if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
        const code = f.statusCode === 413 ? 'payload_too_large' : (f.code?.toLowerCase() ?? null);
        return new ApiError(f.statusCode, f.message, { code: code ?? undefined });
    }
    return new ApiError(500, `Internal error: ${error.message}`, { code: 'internal_error' });
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
