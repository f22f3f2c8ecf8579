// JSON schemas of the request bodies (validated by fastify's Ajv before a handler runs: wrong types and missing
// fields are 400s naming the field). Fields OpenAI defines and we do not use are accepted and ignored.
import { OPENAI_CATEGORIES } from './categories.js';

const textPart = {
    type: 'object',
    required: ['type', 'text'],
    properties: { type: { const: 'text' }, text: { type: 'string' } },
} as const;

const imagePart = {
    type: 'object',
    required: ['type', 'image_url'],
    properties: {
        type: { const: 'image_url' },
        image_url: {
            type: 'object',
            required: ['url'],
            properties: { url: { type: 'string', minLength: 1 }, detail: { type: 'string' } },
        },
    },
} as const;

const contentPart = {
    type: 'object',
    required: ['type'],
    properties: { type: { enum: ['text', 'image_url'] } },
    if: { properties: { type: { const: 'text' } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else
    then: textPart,
    else: imagePart,
} as const;

const idList = { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 64 } as const;

/** 1 to 64 of `items`: the most images (or messages) one request may carry. */
const oneTo64 = <T>(items: T) => ({ type: 'array', minItems: 1, maxItems: 64, items }) as const;

/** A request body: `required` must be there; `model` is accepted and ignored (the server serves one model). */
const requestBody = <P extends object>(required: string, properties: P) =>
    ({ type: 'object', required: [required], properties: { model: { type: 'string' }, ...properties } }) as const;

export const moderationBodySchema = requestBody('input', {
    input: { anyOf: [{ type: 'string' }, oneTo64({ type: 'string' }), oneTo64(contentPart)] },
    // Extensions: the policy (Policy.save's JSON) or allow / sensitive lists over the server's policy.
    policy: { type: 'object' },
    allow: idList,
    sensitive: idList,
    rationale: { type: 'boolean' },
    category_map: {
        type: 'object',
        additionalProperties: { type: 'array', items: { enum: OPENAI_CATEGORIES } },
    },
});

export const chatBodySchema = requestBody('messages', {
    messages: oneTo64({
        type: 'object',
        required: ['role'],
        properties: {
            role: { enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
            content: { anyOf: [{ type: 'string' }, { type: 'null' }, { type: 'array', items: contentPart }] },
        },
    }),
    stream: { type: 'boolean' },
    temperature: { type: 'number', minimum: 0, maximum: 2 },
    top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    top_k: { type: 'integer', minimum: 0 },
    max_tokens: { type: 'integer', minimum: 1, maximum: 100000 },
    max_completion_tokens: { type: 'integer', minimum: 1, maximum: 100000 },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    n: { type: 'integer', minimum: 1 },
    response_format: {
        type: 'object',
        required: ['type'],
        properties: { type: { enum: ['text', 'json_object', 'json_schema'] } },
    },
    stream_options: {
        anyOf: [{ type: 'null' }, { type: 'object', properties: { include_usage: { type: 'boolean' } } }],
    },
});
