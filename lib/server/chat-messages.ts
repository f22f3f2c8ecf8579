// What a chat request asks LlavaGuard: one user turn with one image and the policy text, as the reference's
// client sends it to its SGLang server (an image_url part and the policy as text). The chat format of the loaded
// model renders it exactly as the model was trained (image first, then "\n" and the policy), whatever the order
// of the parts; the text must be a policy prompt (policy-text.ts), or empty for the server's policy.
import type { Policy } from '../policy/index.js';
import { badRequest } from './errors.js';
import { policyFromText } from './policy-text.js';

type Part = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface ChatMessage {
    role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
    content?: string | null | Part[];
}

export interface ChatRequestContent {
    imageUrl: string;
    imageParam: string;
    policy: Policy;
}

export function chatRequestContent(messages: ChatMessage[], serverPolicy: Policy): ChatRequestContent {
    const users = messages.map((m, i) => ({ m, i })).filter(({ m }) => m.role === 'user');
    const other = messages.findIndex((m) => m.role !== 'user');
    if (other >= 0)
        throw badRequest(
            `LlavaGuard answers one user turn (its chat format has a fixed system prompt): messages[${other}] has role "${messages[other]!.role}"`,
            `messages[${other}].role`,
        );
    if (users.length !== 1)
        throw badRequest('Send exactly one user message: an image_url part and the policy text', 'messages');
    const { m, i } = users[0]!;
    const parts: Part[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content ?? []);
    const images = parts.flatMap((p, k) => (p.type === 'image_url' ? [{ url: p.image_url.url, k }] : []));
    if (images.length !== 1)
        throw badRequest(
            `The user message needs exactly one image_url part (it has ${images.length}): LlavaGuard judges an image`,
            `messages[${i}].content`,
            'image_required',
        );
    const text = parts
        .filter((p): p is Extract<Part, { type: 'text' }> => p.type === 'text')
        .map((p) => p.text)
        .join('\n');
    let policy = serverPolicy;
    if (text.trim() !== '') {
        const parsed = policyFromText(text);
        if (!parsed)
            throw badRequest(
                "The message text must be a LlavaGuard policy prompt, exactly as the reference's templates (json-v24, json-v16) or Policy.render() write it, or empty for the server's policy",
                `messages[${i}].content`,
                'invalid_policy',
            );
        policy = parsed;
    }
    return { imageUrl: images[0]!.url, imageParam: `messages[${i}].content[${images[0]!.k}].image_url.url`, policy };
}
