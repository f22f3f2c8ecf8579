// Converts between the context's options and results and the native seam's shapes (bindings/AddonTypes.ts): the
// prompt tokenized as Hugging Face would, a generation's request, its result, and encoded rows copied into JS.
import type { NativeAbortHandle, NativeGenerateRequest, NativeGenerateResult } from '../bindings/AddonTypes.js';
import type { GenerateOptions, GenerateResult, Prompt } from './context-types.js';
import type { EncodedImage, EncodedImageHandle } from './types.js';
import type { VisionModel } from './VisionModel.js';

/** A generation's options as the native seam takes them. */
export function nativeGenerateRequest(
    r: GenerateOptions,
    sequence: number,
    abort: NativeAbortHandle,
    model: VisionModel,
): NativeGenerateRequest {
    return {
        sequence,
        nPast: r.keepPrefix ?? 0,
        prompt: toNativePrompt(r.prompt, model),
        maxTokens: r.maxTokens ?? 256,
        abort,
        sampler: {
            grammar: r.grammar,
            temperature: r.temperature,
            topK: r.topK,
            topP: r.topP,
            seed: r.seed ?? Math.floor(Math.random() * 0xffffffff),
            jumpForward: r.jumpForward ?? true,
            referenceSampler: r.referenceSampler ?? false,
            ...(r.drafts !== undefined ? { drafts: draftsArray(r.drafts) } : {}),
        },
    };
}

/** The embeddings copied into JS, the native rows freed at once. */
export function copiedOut(encoded: EncodedImageHandle[]): EncodedImage[] {
    return encoded.map(({ embeddings, nTokens, encodeMs }) => {
        const data = embeddings.data;
        embeddings.dispose();
        return { embeddings: data, nTokens, encodeMs };
    });
}

// The native side checks each entry; here a string is kept from being spread into characters.
function draftsArray(drafts: readonly string[]): string[] {
    if (!Array.isArray(drafts)) throw new TypeError("option 'drafts' must be an array of strings");
    return [...drafts];
}

export function toNativePrompt(p: Prompt, model: VisionModel) {
    if (!p || typeof p !== 'object') throw new TypeError('prompt must be an object { text, images } or { tokens }');
    const prompt = {
        images: p.images,
        embeddings: p.embeddings,
        tokens: p.tokens,
        addSpecial: p.addSpecial ?? false,
        parseSpecial: true,
    };
    if (p.text === undefined || p.text === '') return { ...prompt, text: p.text };
    // Tokenized here as Hugging Face's tokenizer would (lib/tokenize), not by llama.cpp's special-token parsing.
    const marker = model.info.mediaMarker;
    const textTokens = model.textTokenizer.tokenizeAround(p.text, marker, { addSpecial: prompt.addSpecial });
    const media = (p.images?.length ?? 0) + (p.embeddings?.length ?? 0);
    if (p.images?.length && p.embeddings?.length)
        throw new TypeError("a prompt has either 'images' or 'embeddings', not both");
    if (p.images?.length && !model.info.hasVision)
        throw new Error('this model was loaded without an mmproj: it cannot take images');
    if (textTokens.length - 1 !== media)
        throw new RangeError(
            `the prompt has a different number of media markers (${marker}) than ${p.embeddings ? 'embeddings' : 'images'} (${media})`,
        );
    return { ...prompt, textTokens };
}

export function toResult(r: NativeGenerateResult, text: string, totalMs: number): GenerateResult {
    if (r.stopReason === 'error') throw new Error(r.error ?? 'generation failed');
    return {
        text,
        tokens: r.tokens,
        stopReason: r.stopReason,
        promptTokens: r.promptTokens,
        imageTokens: r.imageTokens,
        nPast: r.nPast,
        forwardPasses: { prefill: r.prefillForwardPasses, decode: r.forwardPasses },
        forcedTokens: r.forcedTokens,
        draftTokens: { proposed: r.draftTokens, accepted: r.draftTokensAccepted },
        timings: { imageMs: r.imageMs, promptMs: r.promptMs, decodeMs: r.decodeMs, totalMs },
    };
}
