// POST /v1/chat/completions: the reference's own client code (SGLang's OpenAI-compatible server, temperature 0.2,
// top_p 0.95, max_tokens 500) works unchanged. Decoding follows our verdict grammar (any response_format but
// {"type": "text"}, which decodes freely and parses tolerantly); `stream: true` sends server-sent events.
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { Assessment, AssessOptions } from '../guard/types.js';
import { chatRequestContent, type ChatMessage } from './chat-messages.js';
import { checkModel, type ServerContext } from './context.js';
import { badRequest } from './errors.js';
import { requestImage } from './image-source.js';
import { VerdictParseError } from '../verdict/index.js';

export interface ChatBody {
    model?: string;
    messages: ChatMessage[];
    stream?: boolean;
    temperature?: number;
    top_p?: number;
    top_k?: number;
    max_tokens?: number;
    max_completion_tokens?: number;
    seed?: number;
    n?: number;
    response_format?: { type: 'text' | 'json_object' | 'json_schema' };
    stream_options?: { include_usage?: boolean } | null;
}

interface Prepared {
    model: string;
    options: AssessOptions;
    image: Awaited<ReturnType<typeof requestImage>>;
    /** Same work as another request (deterministic settings): answered from one assessment. */
    key: string | undefined;
}

async function prepare(ctx: ServerContext, body: ChatBody, signal: AbortSignal): Promise<Prepared> {
    const model = checkModel(ctx, body.model);
    if (body.n !== undefined && body.n !== 1) throw badRequest('Only n = 1 is supported', 'n');
    const content = chatRequestContent(body.messages, ctx.policy);
    const image = await requestImage(content.imageUrl, content.imageParam, ctx.images, signal);
    const options: AssessOptions = {
        policy: content.policy,
        temperature: body.temperature,
        topP: body.top_p,
        topK: body.top_k,
        maxTokens: body.max_completion_tokens ?? body.max_tokens,
        seed: body.seed,
        grammar: body.response_format?.type !== 'text',
    };
    const deterministic = body.temperature === 0 || body.seed !== undefined;
    const { policy, ...settings } = options;
    const key = deterministic ? `chat:${image.sha256}:${policy!.hash}:${JSON.stringify(settings)}` : undefined;
    return { model, options, image, key };
}

const finishReason = (stopReason: string) =>
    stopReason === 'maxTokens' || stopReason === 'contextFull' ? 'length' : 'stop';

function usage(a: Pick<Assessment, 'tokens'>) {
    // tokens.prompt counts the image's tokens too (tokens.image says how many of them).
    const prompt = a.tokens.prompt;
    return { prompt_tokens: prompt, completion_tokens: a.tokens.generated, total_tokens: prompt + a.tokens.generated };
}

/**
 * An answer with no readable verdict (e.g. max_tokens ended it before the rating) is still a chat answer: its text
 * with its finish reason, as OpenAI's API gives a truncated completion; the llavaguard fields say why they are empty.
 */
function unreadAnswer(error: VerdictParseError) {
    const tokens = error.tokens ?? { prompt: 0, image: 0, generated: 0 };
    return {
        content: error.raw,
        finish: finishReason(error.stopReason ?? 'eog'),
        usage: usage({ tokens }),
        llavaguard: { rating: null, category: null, rationale: null, parse_error: error.message, tokens },
    };
}

function llavaguardFields(a: Assessment) {
    return {
        rating: a.rating,
        category: a.category,
        rationale: a.rationale,
        parsed_by: a.parsedBy,
        policy_hash: a.policyHash,
        timings: a.timings,
        tokens: a.tokens,
        image_pipeline: a.imagePipeline,
    };
}

export async function chatCompletion(ctx: ServerContext, body: ChatBody, signal: AbortSignal) {
    const p = await prepare(ctx, body, signal);
    const answer = await ctx.work
        .run(
            p.key,
            async (jobSignal) => {
                const assessment = await ctx.guard.assess(p.image.pixels, { ...p.options, signal: jobSignal });
                ctx.metrics.assessed(assessment.timings);
                return assessment;
            },
            signal,
        )
        .then(
            (a) => ({
                content: a.raw,
                finish: finishReason(a.stopReason),
                usage: usage(a),
                llavaguard: llavaguardFields(a),
            }),
            (error) => {
                if (error instanceof VerdictParseError) return unreadAnswer(error);
                throw error;
            },
        );
    return {
        id: `chatcmpl-${randomUUID()}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: p.model,
        choices: [
            {
                index: 0,
                message: { role: 'assistant', content: answer.content, refusal: null },
                logprobs: null,
                finish_reason: answer.finish,
            },
        ],
        usage: answer.usage,
        llavaguard: answer.llavaguard,
    };
}

/**
 * The same, streamed: the response is taken over (reply.hijack) once the request is valid and admitted, so
 * every error before that is still an ordinary JSON error.
 */
export async function chatCompletionStream(
    ctx: ServerContext,
    body: ChatBody,
    reply: FastifyReply,
    signal: AbortSignal,
): Promise<void> {
    const p = await prepare(ctx, body, signal);
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: object, finish: string | null, extra: object = {}) =>
        `data: ${JSON.stringify({
            id,
            object: 'chat.completion.chunk',
            created,
            model: p.model,
            choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
            ...extra,
        })}\n\n`;
    let started = false;
    const start = () => {
        if (started) return;
        started = true;
        reply.hijack();
        reply.raw.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            connection: 'keep-alive',
        });
        reply.raw.write(chunk({ role: 'assistant', content: '' }, null));
    };
    try {
        await ctx.work.run(
            undefined,
            async (jobSignal) => {
                start();
                let sent = '';
                const events = ctx.guard.assessStream(p.image.pixels, { ...p.options, signal: jobSignal });
                const unread = (error: unknown) => {
                    if (!(error instanceof VerdictParseError)) throw error;
                    const u = unreadAnswer(error);
                    reply.raw.write(chunk({}, u.finish, { llavaguard: u.llavaguard }));
                    if (body.stream_options?.include_usage)
                        reply.raw.write(
                            `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: p.model, choices: [], usage: u.usage })}\n\n`,
                        );
                };
                for await (const event of withUnread(events, unread)) {
                    if (event.type === 'token') {
                        sent += event.text;
                        reply.raw.write(chunk({ content: event.text }, null));
                    } else if (event.type === 'verdict') {
                        const a = event.assessment;
                        ctx.metrics.assessed(a.timings);
                        // Without a rationale the answer is closed after the last generated token (recipe.read).
                        if (a.raw.startsWith(sent) && a.raw.length > sent.length)
                            reply.raw.write(chunk({ content: a.raw.slice(sent.length) }, null));
                        reply.raw.write(chunk({}, finishReason(a.stopReason), { llavaguard: llavaguardFields(a) }));
                        if (body.stream_options?.include_usage)
                            reply.raw.write(
                                `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: p.model, choices: [], usage: usage(a) })}\n\n`,
                            );
                    }
                }
                reply.raw.end('data: [DONE]\n\n');
            },
            signal,
        );
    } catch (error) {
        if (!started) throw error;
        // The stream has begun: report the error in it (as OpenAI does), then end it.
        if (!reply.raw.writableEnded && !reply.raw.destroyed) {
            const message = (error as Error).message ?? String(error);
            reply.raw.end(
                `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } })}\n\n`,
            );
        }
    }
}

/** The stream's events; a VerdictParseError at its end goes to `unread` (which rethrows anything else). */
async function* withUnread<T>(events: AsyncGenerator<T>, unread: (error: unknown) => void): AsyncGenerator<T> {
    try {
        yield* events;
    } catch (error) {
        unread(error);
    }
}
