import { basename } from 'node:path';
import { selectChatFormatFor, type ChatFormatSelection } from '../chat/index.js';
import type { GenerateResult, VisionContext } from '../runtime/VisionContext.js';
import { VisionModel } from '../runtime/VisionModel.js';
import { Policy } from '../policy/index.js';
import { LLAVAGUARD_VERDICT, VerdictParseError } from '../verdict/index.js';
import { OptionScorer } from './option-scorer.js';
import { scoreVerdict } from './score-verdict.js';
import { Scheduler } from '../runtime/Scheduler.js';
import { GuardRecipes, REFERENCE_SAMPLING, type PolicyRecipe } from './recipe.js';
import { loadImage } from '../image/index.js';
import type { PromptText } from '../tokenize/index.js';
import { ImagePipeline, releasePreparedImage, type PreparedImage } from '../pipeline/index.js';
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

export { REFERENCE_SAMPLING };

/** A verdict with a short rationale, in tokens: the decode part of the probe's workload. */
const TYPICAL_VERDICT_TOKENS = 64;

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
    readonly #recipes: GuardRecipes;
    /** Every call reaches the context through it: batched generations, exclusive tasks, one abort convention. */
    readonly #scheduler: Scheduler;
    readonly #pipeline: ImagePipeline;
    readonly modelInfo: AssessmentModelInfo;
    /** Which backend and device run this guard's work (on every result). */
    readonly #placement: { backend: Assessment['backend']; device: string };

    private constructor(
        model: VisionModel,
        context: VisionContext,
        selection: ChatFormatSelection,
        pipeline: ImagePipeline,
        recipes: GuardRecipes,
    ) {
        this.#model = model;
        this.#context = context;
        this.#selection = selection;
        this.#pipeline = pipeline;
        this.#defaultPolicy = Policy.default(selection.policyVersion);
        this.#scheduler = new Scheduler(context);
        this.#recipes = recipes;
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
            gpu: model.gpu,
        });
        this.#placement = { backend: model.gpu.backend, device: model.gpu.device };
    }

    static async load(options: LlavaGuardLoadOptions): Promise<LlavaGuard> {
        if (!options || typeof options.model !== 'string' || typeof options.mmproj !== 'string') {
            throw new TypeError('LlavaGuard.load needs { model, mmproj }: the two GGUF files of a LlavaGuard model');
        }
        const model = await VisionModel.load({
            model: options.model,
            mmproj: options.mmproj,
            gpu: options.gpu,
            gpuLayers: options.gpuLayers,
            mmprojThreads: options.threads,
            mmprojFlashAttention: options.mmprojFlashAttention,
            onProgress: options.onProgress,
        });
        try {
            const selection = selectChatFormatFor(model.info, options.chatFormat);
            const pipeline = await ImagePipeline.create(model, options.imagePipeline, {
                encodeBatch: options.encodeBatch,
            });
            const recipes = new GuardRecipes({
                tokenizer: model,
                format: selection.format,
                imageMarker: model.info.mediaMarker,
            });
            const context = await model.createContext({
                contextSize: options.contextSize ?? defaultContextSize(model, pipeline),
                sequences: options.sequences ?? 1,
                threads: options.threads,
                flashAttention: options.flashAttention,
                // What the flash-attention probe prices: the default policy's prompt with one tile, a short verdict.
                workload: {
                    promptTokens: recipes.for(Policy.default(selection.policyVersion)).textTokens + pipeline.tileTokens,
                    generatedTokens: TYPICAL_VERDICT_TOKENS,
                },
            });
            return new LlavaGuard(model, context, selection, pipeline, recipes);
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

    /** Tokens of context each slot holds (image, policy and answer must fit). */
    get contextSize(): number {
        return this.#context.info.sequenceContextSize;
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
     * wait at the same time are decoded together in one batch. An aborted call rejects with AbortError.
     */
    async assess(image: ImageInput, options: AssessOptions = {}): Promise<Assessment> {
        const started = performance.now();
        const recipe = this.#recipeOf(options.policy);
        const prepared = await this.#prepare(image, options.signal);
        try {
            const r = await this.#scheduler.generate({
                ...recipe.request(options),
                prompt: this.#promptWith(recipe.textParts, prepared),
            });
            return this.#toAssessment(r, recipe, options, started, prepared);
        } finally {
            releasePreparedImage(prepared);
        }
    }

    /** Rates one image, yielding tokens as they come, the rating as soon as it is decided, then the verdict. */
    async *assessStream(image: ImageInput, options: AssessOptions = {}): AsyncGenerator<AssessEvent> {
        const started = performance.now();
        const recipe = this.#recipeOf(options.policy);
        const prepared = await this.#prepare(image, options.signal);
        let raw = '';
        let ratingSent = false;
        try {
            const stream = this.#scheduler.stream({
                ...recipe.request(options),
                prompt: this.#promptWith(recipe.textParts, prepared),
            });
            for await (const event of stream) {
                if (event.type === 'done') {
                    yield {
                        type: 'verdict',
                        assessment: this.#toAssessment(event.result, recipe, options, started, prepared),
                    };
                    continue;
                }
                raw += event.text;
                yield event;
                const rating = ratingSent ? undefined : LLAVAGUARD_VERDICT.decidedRating(raw);
                if (rating) {
                    ratingSent = true;
                    yield { type: 'rating', rating };
                }
            }
        } finally {
            releasePreparedImage(prepared);
        }
    }

    /**
     * Score mode: the probability of Unsafe at the rating position and of each of the policy's categories at
     * the category choice, read from the logits (for thresholds and ROC curves). Costs the prefill and a few
     * small forward passes; nothing is sampled.
     */
    async score(image: ImageInput, options: ScoreOptions = {}): Promise<ScoreResult> {
        const started = performance.now();
        const recipe = this.#recipeOf(options.policy);
        const policy = recipe.policy;
        const prepared = await this.#prepare(image, options.signal);
        return this.#scheduler
            .exclusive(async (direct) => {
                const prefill = await direct.evaluate({
                    prompt: this.#promptWith(recipe.textParts, prepared),
                    logits: true,
                    signal: options.signal,
                });
                const scoreStart = performance.now();
                const scorer = new OptionScorer(direct, recipe.answerTokens, {
                    sequence: 0,
                    end: prefill.nPast,
                    logits: prefill.logits!,
                });
                const scores = await scoreVerdict(scorer, policy, options.signal);
                const now = performance.now();
                return {
                    unsafeProbability: scores.ratingProbabilities.Unsafe,
                    ...scores,
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
                    ...this.#placement,
                    forwardPasses: { prefill: prefill.forwardPasses, scoring: scorer.forwardPasses },
                };
            }, options)
            .finally(() => releasePreparedImage(prepared));
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
        const recipes = policies.map((p) => this.#recipeOf(p));
        const prepared = await this.#prepare(image, options.signal);
        // The chat format puts the image before the policy: every policy's prompt starts with the same prefix.
        const prefixText = recipes[0]!.imagePrefixParts;
        const slots = this.#context.info.sequences;
        return this.#scheduler
            .exclusive(async (direct) => {
                const prefix = await direct.evaluate({
                    prompt: this.#promptWith(prefixText, prepared),
                    signal: options.signal,
                });
                const results: Assessment[] = [];
                for (let start = 0; start < recipes.length; start += slots) {
                    const chunk = recipes.slice(start, start + slots);
                    for (let s = 1; s < chunk.length; s++) await direct.copySequence(0, s);
                    const generated = await direct.generateMany(
                        chunk.map((recipe, s) => ({
                            ...recipe.request(options),
                            prompt: { text: recipe.afterImageParts },
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
            }, options)
            .finally(() => releasePreparedImage(prepared));
    }

    async close(): Promise<void> {
        await this.#model.close();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }

    #toAssessment(
        r: GenerateResult,
        recipe: PolicyRecipe,
        options: Omit<AssessOptions, 'policy'>,
        started: number,
        prepared: PreparedImage,
    ): Assessment {
        const tokens = { prompt: r.promptTokens, image: r.imageTokens, generated: r.tokens.length };
        let read: ReturnType<PolicyRecipe['read']>;
        try {
            read = recipe.read(r, options);
        } catch (error) {
            if (error instanceof VerdictParseError) Object.assign(error, { stopReason: r.stopReason, tokens });
            throw error;
        }
        const { answer, verdict } = read;
        return {
            rating: verdict.rating,
            category: verdict.category,
            rationale: verdict.rationale,
            unsafe: verdict.unsafe,
            raw: answer,
            parsedBy: verdict.parsedBy,
            policyHash: recipe.policy.hash,
            model: this.modelInfo,
            timings: {
                imageMs: r.timings.imageMs + prepared.encodeMs,
                promptMs: r.timings.promptMs,
                decodeMs: r.timings.decodeMs,
                totalMs: performance.now() - started,
            },
            tokens,
            imagePipeline: prepared.pipeline,
            ...this.#placement,
            stopReason: r.stopReason,
        };
    }

    #recipeOf(policy: Policy | undefined): PolicyRecipe {
        const p = policy ?? this.#defaultPolicy;
        if (!(p instanceof Policy)) throw new TypeError('policy must be a Policy (Policy.default(), Policy.load(...))');
        return this.#recipes.for(p);
    }

    /** Decodes the image and runs the model's image pipeline (for OneVision: the tiles through the encoder). */
    async #prepare(image: ImageInput, signal: AbortSignal | undefined): Promise<PreparedImage> {
        const rgb = await loadImage(image, { maxSide: this.#pipeline.maxDecodeSide });
        return this.#pipeline.prepare(rgb, this.#scheduler, signal);
    }

    #promptWith(text: PromptText, prepared: PreparedImage) {
        return {
            text,
            images: prepared.images,
            embeddings: prepared.embeddings,
            addSpecial: this.#selection.format.addBos,
        };
    }
}

/** The most image tokens the pipeline can make, plus ~1.3k policy tokens and 500 answer tokens. */
function defaultContextSize(model: VisionModel, pipeline: ImagePipeline): number {
    const needed = pipeline.maxImageTokens + 2048;
    return Math.min(Math.max(4096, Math.ceil(needed / 256) * 256), model.info.nCtxTrain || 32768);
}
