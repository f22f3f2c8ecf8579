import { basename } from 'node:path';
import { selectChatFormat, type ChatFormatSelection } from '../chat/index.js';
import type { GenerateOptions, GenerateResult, VisionContext } from '../runtime/VisionContext.js';
import { VisionModel } from '../runtime/VisionModel.js';
import { Policy } from '../policy/index.js';
import {
    VERDICT_CLOSE_WITHOUT_RATIONALE,
    VERDICT_PREFIX,
    buildVerdictGrammar,
    buildVerdictTokenGrammar,
    jsonStringContent,
    parseVerdict,
    verdictDrafts,
    type LayoutTokenizer,
} from '../verdict/index.js';
import { AbortError } from '../runtime/errors.js';
import { OptionScorer } from './option-scorer.js';
import { answerTokenizer } from './answer-tokenizer.js';
import { AssessmentBatcher } from './assessment-batcher.js';
import { loadImage } from '../image/index.js';
import { ImagePipeline, type PreparedImage } from '../pipeline/index.js';
import type {
    AssessEvent,
    Assessment,
    AssessmentModelInfo,
    AssessOptions,
    ImageInput,
    LlavaGuardLoadOptions,
    ScoreOptions,
    ScoreResult,
} from './types.js';
import type { Rating } from '../verdict/types.js';

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
    readonly #drafts = new Map<string, readonly string[]>();
    readonly #answerTokenizers = new Map<string, LayoutTokenizer>();
    readonly #batcher: AssessmentBatcher;
    readonly #pipeline: ImagePipeline;
    readonly modelInfo: AssessmentModelInfo;

    private constructor(
        model: VisionModel,
        context: VisionContext,
        selection: ChatFormatSelection,
        pipeline: ImagePipeline,
    ) {
        this.#model = model;
        this.#context = context;
        this.#selection = selection;
        this.#pipeline = pipeline;
        this.#defaultPolicy = Policy.default(selection.policyVersion);
        this.#batcher = new AssessmentBatcher(context);
        const meta = model.info.metadata;
        this.modelInfo = Object.freeze({
            name: meta['general.name'] ?? basename(model.info.modelPath),
            path: model.info.modelPath,
            chatFormat: selection.format.id,
            chatFormatReason: selection.reason,
            policyVersion: selection.policyVersion,
            imagePipeline: pipeline.name,
            imagePipelineReason: pipeline.choice.reason,
            flashAttention: { text: context.flashAttention, vision: model.mmprojFlashAttention },
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
            mmprojFlashAttention: options.mmprojFlashAttention,
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
            const pipeline = await ImagePipeline.create(model, options.imagePipeline);
            const context = await model.createContext({
                contextSize: options.contextSize ?? defaultContextSize(model, pipeline),
                sequences: options.sequences ?? 1,
                threads: options.threads,
                flashAttention: options.flashAttention,
            });
            return new LlavaGuard(model, context, selection, pipeline);
        } catch (error) {
            await model.close();
            throw error;
        }
    }

    /** How images reach the model (chosen from its metadata and the `imagePipeline` option). */
    get imagePipeline(): ImagePipeline {
        return this.#pipeline;
    }

    /** Parallel sequence slots: assessments waiting at the same time are decoded together. */
    get sequences(): number {
        return this.#context.info.sequences;
    }

    /** The policy used when an assessment names none: the wording this model was trained on. */
    get defaultPolicy(): Policy {
        return this.#defaultPolicy;
    }

    get vision(): VisionModel {
        return this.#model;
    }

    /**
     * Rates one image. Concurrent calls queue; with several sequence slots (`sequences` at load) calls that
     * wait at the same time are decoded together in one batch.
     */
    async assess(image: ImageInput, options: AssessOptions = {}): Promise<Assessment> {
        const started = performance.now();
        const policy = this.#policyOf(options.policy);
        const prepared = await this.#prepare(image, options.signal);
        const request = this.#generateRequest(policy, options);
        const r = await this.#batcher.generate({
            ...request,
            prompt: this.#promptWith(this.#promptFor(policy), prepared),
        });
        return this.#toAssessment(r, policy, options, started, prepared);
    }

    /** Rates one image, yielding tokens as they come, the rating as soon as it is decided, then the verdict. */
    async *assessStream(image: ImageInput, options: AssessOptions = {}): AsyncGenerator<AssessEvent> {
        const started = performance.now();
        const policy = this.#policyOf(options.policy);
        const prepared = await this.#prepare(image, options.signal);
        let raw = '';
        let ratingSent = false;
        const stream = this.#context.stream({
            ...this.#generateRequest(policy, options),
            prompt: this.#promptWith(this.#promptFor(policy), prepared),
        });
        for await (const event of stream) {
            if (event.type === 'done') {
                yield {
                    type: 'verdict',
                    assessment: this.#toAssessment(event.result, policy, options, started, prepared),
                };
                continue;
            }
            raw += event.text;
            yield event;
            const decided = !ratingSent && /"rating"\s*:\s*"(Safe|Unsafe)"/.exec(raw);
            if (decided) {
                ratingSent = true;
                yield { type: 'rating', rating: decided[1] as Rating };
            }
        }
    }

    /**
     * Score mode: the probability of Unsafe at the rating position and of each of the policy's categories at
     * the category choice, read from the logits (for thresholds and ROC curves). Costs the prefill and a few
     * small forward passes; nothing is sampled.
     */
    async score(image: ImageInput, options: ScoreOptions = {}): Promise<ScoreResult> {
        const started = performance.now();
        const policy = this.#policyOf(options.policy);
        const prepared = await this.#prepare(image, options.signal);
        const text = this.#promptFor(policy);
        return this.#context.exclusive(async (direct) => {
            const prefill = await direct.evaluate({
                prompt: this.#promptWith(text, prepared),
                logits: true,
                signal: options.signal,
            });
            const scoreStart = performance.now();
            const scorer = new OptionScorer(direct, this.#answerTokenizer(policy), 0, prefill.nPast, prefill.logits!);
            const [safe, unsafe] = await scorer.score(VERDICT_PREFIX, ['Safe"', 'Unsafe"'], options.signal);
            const rating: Rating = unsafe! > safe! ? 'Unsafe' : 'Safe';
            const categories = policy.categoryStrings;
            const before = `${VERDICT_PREFIX}${rating}",\n    "category": "`;
            const probs = await scorer.score(
                before,
                categories.map((c) => `${jsonStringContent(c)}"`),
                options.signal,
            );
            const categoryProbabilities = Object.fromEntries(categories.map((c, i) => [c, probs[i]!]));
            const best = categories.reduce(
                (a, c, i) => (probs[i]! > categoryProbabilities[a]! ? c : a),
                categories[0]!,
            );
            const now = performance.now();
            return {
                unsafeProbability: unsafe!,
                ratingProbabilities: { Safe: safe!, Unsafe: unsafe! },
                rating,
                categoryProbabilities,
                category: best,
                policyHash: policy.hash,
                model: this.modelInfo,
                timings: {
                    imageMs: prefill.imageMs + prepared.encodeMs,
                    promptMs: prefill.promptMs,
                    scoreMs: now - scoreStart,
                    totalMs: now - started,
                },
                tokens: { prompt: prefill.promptTokens, image: prefill.imageTokens },
                imagePipeline: prepared.pipeline,
                forwardPasses: { prefill: prefill.forwardPasses, scoring: scorer.forwardPasses },
            };
        });
    }

    /**
     * One image under several policies: the image and the text before it are evaluated once, shared with
     * the other sequence slots (KV copy), and each policy is evaluated and answered after that prefix.
     * Results are in the order of `policies`.
     */
    async assessPolicies(
        image: ImageInput,
        policies: readonly Policy[],
        options: Omit<AssessOptions, 'policy'> = {},
    ): Promise<Assessment[]> {
        if (!Array.isArray(policies) || policies.length === 0)
            throw new TypeError('assessPolicies needs a non-empty array of policies');
        const started = performance.now();
        const list = policies.map((p) => this.#policyOf(p));
        const prepared = await this.#prepare(image, options.signal);
        const marker = this.#model.info.mediaMarker;
        const prompts = list.map((p) => this.#promptFor(p));
        const cut = prompts[0]!.indexOf(marker) + marker.length;
        const prefixText = prompts[0]!.slice(0, cut);
        if (prompts.some((p) => p.slice(0, cut) !== prefixText))
            throw new Error('assessPolicies: the prompts do not share the image prefix');
        const slots = this.#context.info.sequences;
        return this.#context.exclusive(async (direct) => {
            const prefix = await direct.evaluate({
                prompt: this.#promptWith(prefixText, prepared),
                signal: options.signal,
            });
            const results: Assessment[] = [];
            for (let start = 0; start < list.length; start += slots) {
                const chunk = list.slice(start, start + slots);
                for (let s = 1; s < chunk.length; s++) await direct.copySequence(0, s);
                const generated = await direct.generateMany(
                    chunk.map((policy, s) => ({
                        ...this.#generateRequest(policy, options),
                        prompt: { text: prompts[start + s]!.slice(cut) },
                        sequence: s,
                        keepPrefix: prefix.nPast,
                    })),
                );
                for (const [s, r] of generated.entries()) {
                    const shared = start === 0 && s === 0;
                    const a = this.#toAssessment(r, chunk[s]!, options, started, prepared);
                    a.timings.imageMs = shared ? prefix.imageMs + prepared.encodeMs : 0;
                    a.timings.promptMs += shared ? prefix.promptMs : 0;
                    a.tokens.prompt += prefix.promptTokens;
                    a.tokens.image = prefix.imageTokens;
                    results.push(a);
                }
            }
            return results;
        });
    }

    async close(): Promise<void> {
        await this.#model.close();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }

    /** Sampling and grammar of an assessment (the prompt is added by the caller). */
    #generateRequest(policy: Policy, options: Omit<AssessOptions, 'policy'>): Omit<GenerateOptions, 'prompt'> {
        const useGrammar = options.grammar ?? true;
        return {
            grammar: useGrammar ? this.#grammarFor(policy, options) : undefined,
            drafts: useGrammar ? this.#draftsFor(policy, options.rationale ?? true) : undefined,
            seed: options.seed,
            temperature: options.temperature ?? REFERENCE_SAMPLING.temperature,
            topP: options.topP ?? REFERENCE_SAMPLING.topP,
            topK: options.topK ?? REFERENCE_SAMPLING.topK,
            maxTokens: options.maxTokens ?? REFERENCE_SAMPLING.maxTokens,
            signal: options.signal,
        };
    }

    #toAssessment(
        r: GenerateResult,
        policy: Policy,
        options: Omit<AssessOptions, 'policy'>,
        started: number,
        prepared: PreparedImage,
    ): Assessment {
        if (r.stopReason === 'abort') throw new AbortError('the assessment was aborted');
        // Without a rationale the grammar ends after the category: close the JSON as the model would.
        const closeJson = (options.grammar ?? true) && options.rationale === false && r.stopReason === 'eog';
        const answer = closeJson ? r.text + VERDICT_CLOSE_WITHOUT_RATIONALE : r.text;
        const verdict = parseVerdict(answer, policy);
        return {
            rating: verdict.rating,
            category: verdict.category,
            rationale: verdict.rationale,
            unsafe: verdict.unsafe,
            raw: answer,
            parsedBy: verdict.parsedBy,
            policyHash: policy.hash,
            model: this.modelInfo,
            timings: {
                imageMs: r.timings.imageMs + prepared.encodeMs,
                promptMs: r.timings.promptMs,
                decodeMs: r.timings.decodeMs,
                totalMs: performance.now() - started,
            },
            tokens: { prompt: r.promptTokens, image: r.imageTokens, generated: r.tokens.length },
            imagePipeline: prepared.pipeline,
            stopReason: r.stopReason,
        };
    }

    #policyOf(policy: Policy | undefined): Policy {
        const p = policy ?? this.#defaultPolicy;
        if (!(p instanceof Policy)) throw new TypeError('policy must be a Policy (Policy.default(), Policy.load(...))');
        return p;
    }

    /** Decodes the image and runs the model's image pipeline (for OneVision: the tiles through the encoder). */
    async #prepare(image: ImageInput, signal: AbortSignal | undefined): Promise<PreparedImage> {
        const rgb = await loadImage(image, { maxSide: this.#pipeline.maxDecodeSide });
        return this.#pipeline.prepare(rgb, this.#context, signal);
    }

    #promptWith(text: string, prepared: PreparedImage) {
        return {
            text,
            images: prepared.images,
            embeddings: prepared.embeddings,
            addSpecial: this.#selection.format.addBos,
        };
    }

    #promptFor(policy: Policy): string {
        return this.#selection.format.render(policy.render(), { imageMarker: this.#model.info.mediaMarker });
    }

    /** The answer's tokens as they follow this policy's prompt in the training text. */
    #answerTokenizer(policy: Policy): LayoutTokenizer {
        let tokenizer = this.#answerTokenizers.get(policy.hash);
        if (!tokenizer) {
            const prompt = this.#promptFor(policy);
            const marker = this.#model.info.mediaMarker;
            tokenizer = answerTokenizer(
                this.#model,
                prompt.slice(prompt.lastIndexOf(marker) + marker.length),
                this.#selection.format.answerSeparator,
            );
            this.#answerTokenizers.set(policy.hash, tokenizer);
        }
        return tokenizer;
    }

    #draftsFor(policy: Policy, rationale: boolean): readonly string[] {
        const key = `${policy.hash}:${rationale}`;
        let drafts = this.#drafts.get(key);
        if (!drafts) {
            drafts = Object.freeze(verdictDrafts(policy, { rationale }));
            this.#drafts.set(key, drafts);
        }
        return drafts;
    }

    #grammarFor(policy: Policy, options: Omit<AssessOptions, 'policy'>): string {
        const { maxRationaleChars, rationale = true, layoutTokens = 'canonical' } = options;
        if (layoutTokens !== 'canonical' && layoutTokens !== 'any')
            throw new TypeError(`layoutTokens must be 'canonical' or 'any', got ${String(layoutTokens)}`);
        const key = `${policy.hash}:${maxRationaleChars ?? ''}:${rationale}:${layoutTokens}`;
        let grammar = this.#grammars.get(key);
        if (!grammar) {
            grammar =
                layoutTokens === 'canonical'
                    ? buildVerdictTokenGrammar(policy, this.#answerTokenizer(policy), { maxRationaleChars, rationale })
                    : buildVerdictGrammar(policy, { maxRationaleChars, rationale });
            this.#grammars.set(key, grammar);
        }
        return grammar;
    }
}

/** The most image tokens the pipeline can make, plus ~1.3k policy tokens and 500 answer tokens. */
function defaultContextSize(model: VisionModel, pipeline: ImagePipeline): number {
    const needed = pipeline.maxImageTokens + 2048;
    return Math.min(Math.max(4096, Math.ceil(needed / 256) * 256), model.info.nCtxTrain || 32768);
}
