import { basename } from 'node:path';
import { selectChatFormat, type ChatFormatSelection } from '../chat/index.js';
import type { VisionContext } from '../evaluation/VisionContext.js';
import { VisionModel } from '../evaluation/VisionModel.js';
import { Policy } from '../policy/index.js';
import { buildVerdictGrammar, parseVerdict } from '../verdict/index.js';
import { prepareImage } from './prepare-image.js';
import type { AssessEvent, Assessment, AssessmentModelInfo, AssessOptions, ImageInput, LlavaGuardLoadOptions } from './types.js';

/** Reference generation settings (SGLang in the LlavaGuard repository). */
export const REFERENCE_SAMPLING = Object.freeze({ temperature: 0.2, topP: 0.95, topK: 50, maxTokens: 500 });

/**
 * A LlavaGuard safeguard: a VLM that rates an image against a safety policy.
 *
 *     await using guard = await LlavaGuard.load({ model, mmproj });
 *     const verdict = await guard.assess('photo.jpg', { policy: Policy.default().allow('O6') });
 */
export class LlavaGuard {
    readonly #model: VisionModel;
    readonly #context: VisionContext;
    readonly #selection: ChatFormatSelection;
    readonly #defaultPolicy: Policy;
    readonly #grammars = new Map<string, string>();
    readonly modelInfo: AssessmentModelInfo;

    private constructor(model: VisionModel, context: VisionContext, selection: ChatFormatSelection) {
        this.#model = model;
        this.#context = context;
        this.#selection = selection;
        this.#defaultPolicy = Policy.default(selection.policyVersion);
        const meta = model.info.metadata;
        this.modelInfo = Object.freeze({
            name: meta['general.name'] ?? basename(model.info.modelPath),
            path: model.info.modelPath,
            chatFormat: selection.format.id,
            chatFormatReason: selection.reason,
            policyVersion: selection.policyVersion,
            randomWeights: meta['llavaguard.test_model'] === 'true',
        });
    }

    static async load(options: LlavaGuardLoadOptions): Promise<LlavaGuard> {
        if (!options || typeof options.model !== 'string' || typeof options.mmproj !== 'string') {
            throw new TypeError('LlavaGuard.load needs { model, mmproj }: the two GGUF files of a LlavaGuard model');
        }
        const model = await VisionModel.load({
            model: options.model,
            mmproj: options.mmproj,
            gpuLayers: options.gpuLayers,
            mmprojThreads: options.threads,
            onProgress: options.onProgress,
        });
        try {
            const meta = model.info.metadata;
            const selection = selectChatFormat({
                architecture: meta['general.architecture'],
                name: meta['general.name'],
                chatTemplate: model.info.chatTemplate ?? undefined,
                fileName: basename(options.model),
                llavaguardVersion: meta['llavaguard.version'],
                override: options.chatFormat,
            });
            const context = await model.createContext({
                contextSize: options.contextSize ?? defaultContextSize(model),
                sequences: options.sequences ?? 1,
                threads: options.threads,
                flashAttention: options.flashAttention,
            });
            return new LlavaGuard(model, context, selection);
        } catch (error) {
            await model.close();
            throw error;
        }
    }

    /** The policy used when an assessment names none: the wording this model was trained on. */
    get defaultPolicy(): Policy {
        return this.#defaultPolicy;
    }

    get vision(): VisionModel {
        return this.#model;
    }

    /** Rates one image. Concurrent calls queue. */
    async assess(image: ImageInput, options: AssessOptions = {}): Promise<Assessment> {
        let result: Assessment | undefined;
        for await (const event of this.assessStream(image, options)) {
            if (event.type === 'verdict') result = event.assessment;
        }
        return result!;
    }

    /** Rates one image, yielding tokens as they come, the rating as soon as it is decided, then the verdict. */
    async *assessStream(image: ImageInput, options: AssessOptions = {}): AsyncGenerator<AssessEvent> {
        const started = performance.now();
        const policy = options.policy ?? this.#defaultPolicy;
        if (!(policy instanceof Policy)) throw new TypeError('options.policy must be a Policy (Policy.default(), Policy.load(...))');
        const rgb = await prepareImage(image, this.#model);
        const format = this.#selection.format;
        const text = format.render(policy.render(), { imageMarker: this.#model.info.mediaMarker });
        const useGrammar = options.grammar ?? true;
        let raw = '';
        let ratingSent = false;
        const stream = this.#context.stream({
            prompt: { text, images: [{ data: rgb.data, width: rgb.width, height: rgb.height }], addSpecial: format.addBos },
            grammar: useGrammar ? this.#grammarFor(policy, options.maxRationaleChars) : undefined,
            seed: options.seed,
            temperature: options.temperature ?? REFERENCE_SAMPLING.temperature,
            topP: options.topP ?? REFERENCE_SAMPLING.topP,
            topK: options.topK ?? REFERENCE_SAMPLING.topK,
            maxTokens: options.maxTokens ?? REFERENCE_SAMPLING.maxTokens,
            signal: options.signal,
        });
        for await (const event of stream) {
            if (event.type === 'token') {
                raw += event.text;
                yield event;
                const decided = !ratingSent && /"rating"\s*:\s*"(Safe|Unsafe)"/.exec(raw);
                if (decided) {
                    ratingSent = true;
                    yield { type: 'rating', rating: decided[1] as 'Safe' | 'Unsafe' };
                }
                continue;
            }
            const r = event.result;
            if (r.stopReason === 'abort') {
                const { AbortError } = await import('../evaluation/errors.js');
                throw new AbortError('the assessment was aborted');
            }
            const verdict = parseVerdict(r.text, policy);
            yield {
                type: 'verdict',
                assessment: {
                    rating: verdict.rating,
                    category: verdict.category,
                    rationale: verdict.rationale,
                    unsafe: verdict.unsafe,
                    raw: r.text,
                    parsedBy: verdict.parsedBy,
                    policyHash: policy.hash,
                    model: this.modelInfo,
                    timings: { imageMs: r.timings.imageMs, promptMs: r.timings.promptMs, decodeMs: r.timings.decodeMs, totalMs: performance.now() - started },
                    tokens: { prompt: r.promptTokens, image: r.imageTokens, generated: r.tokens.length },
                    stopReason: r.stopReason,
                },
            };
        }
    }

    async close(): Promise<void> {
        await this.#model.close();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }

    #grammarFor(policy: Policy, maxRationaleChars: number | undefined): string {
        const key = `${policy.hash}:${maxRationaleChars ?? ''}`;
        let grammar = this.#grammars.get(key);
        if (!grammar) {
            grammar = buildVerdictGrammar(policy, { maxRationaleChars });
            this.#grammars.set(key, grammar);
        }
        return grammar;
    }
}

/** Image tokens of the largest tiling the projector can make, plus ~1.3k policy tokens and 500 answer tokens. */
function defaultContextSize(model: VisionModel): number {
    const v = model.vision;
    if (!v || !v.patchSize) return 4096;
    const perTile = (v.imageSize / v.patchSize) ** 2 + 1;
    const maxTiles = v.gridPinpoints.reduce((m, [w, h]) => Math.max(m, Math.ceil(w / v.imageSize) * Math.ceil(h / v.imageSize)), 0) + 1;
    const needed = perTile * maxTiles + 2048;
    return Math.min(Math.max(4096, Math.ceil(needed / 256) * 256), model.info.nCtxTrain || 32768);
}
