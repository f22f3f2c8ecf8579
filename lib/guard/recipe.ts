// A policy's recipe for one model: the prompt's pieces, the answer's tokens, the verdict grammar and drafts, the
// sampling of an assessment, and how its answer is read back. Built once per policy and cached, so that the guard
// and the benchmarks decode with exactly the same grammar and prompt.
import type { ChatFormat, PromptParts } from '../chat/index.js';
import type { Policy } from '../policy/index.js';
import type { GenerateOptions } from '../runtime/VisionContext.js';
import type { TextPart } from '../tokenize/index.js';
import {
    LLAVAGUARD_VERDICT,
    buildVerdictGrammar,
    buildVerdictTokenGrammar,
    verdictDrafts,
    type LayoutTokenizer,
    type ParsedVerdict,
} from '../verdict/index.js';
import { answerTokenizer, type TokenizerOf } from './answer-tokenizer.js';
import type { AssessOptions } from './types.js';

/** Reference generation settings (SGLang in the LlavaGuard repository). */
export const REFERENCE_SAMPLING = Object.freeze({ temperature: 0.2, topP: 0.95, topK: 50, maxTokens: 500 });

/** The options of an assessment that shape its request. */
export type RecipeOptions = Omit<AssessOptions, 'policy'>;

/** Where a recipe's pieces come from: the model's tokenizer, its chat format and its image marker. */
export interface RecipeModel {
    readonly tokenizer: TokenizerOf;
    readonly format: ChatFormat;
    readonly imageMarker: string;
}

export class PolicyRecipe {
    readonly policy: Policy;
    /** The prompt split at the image and at the end of the user's turn. */
    readonly prompt: PromptParts;
    readonly #model: RecipeModel;
    readonly #grammars = new Map<string, string>();
    readonly #drafts = new Map<boolean, readonly string[]>();
    #answerTokens: LayoutTokenizer | undefined;

    constructor(policy: Policy, model: RecipeModel) {
        this.policy = policy;
        this.#model = model;
        this.prompt = Object.freeze(model.format.renderParts(policy.render(), { imageMarker: model.imageMarker }));
    }

    /** The whole prompt text (one image marker). */
    get text(): string {
        return this.prompt.imagePrefix + this.afterImage;
    }

    /** The prompt after the image: what each policy adds to a shared image prefix. */
    get afterImage(): string {
        return this.prompt.userText + this.prompt.assistantPrefix;
    }

    /**
     * The prompt as it is tokenized: the chat template's text with its special tokens, the policy as plain text
     * (a policy that spells <|im_end|> cannot close the user's turn).
     */
    get textParts(): readonly TextPart[] {
        return [this.imagePrefixParts[0]!, ...this.afterImageParts];
    }

    /** {@link textParts} up to the image marker included. */
    get imagePrefixParts(): readonly TextPart[] {
        return [{ text: this.prompt.imagePrefix, parseSpecial: true }];
    }

    /** {@link textParts} after the image. */
    get afterImageParts(): readonly TextPart[] {
        return [
            { text: this.prompt.userText, parseSpecial: false },
            { text: this.prompt.assistantPrefix, parseSpecial: true },
        ];
    }

    /** Tokens of the prompt's text (the image's tokens not counted). */
    get textTokens(): number {
        const marker = this.#model.imageMarker;
        const [prefix, ...rest] = this.textParts;
        const parts = [{ ...prefix!, text: prefix!.text.slice(0, -marker.length) }, ...rest];
        return this.#model.tokenizer.tokenize(parts, { addSpecial: this.#model.format.addBos }).length;
    }

    /** The answer's tokens as they follow this prompt in the training text. */
    get answerTokens(): LayoutTokenizer {
        this.#answerTokens ??= answerTokenizer(
            this.#model.tokenizer,
            this.afterImageParts,
            this.#model.format.answerSeparator,
        );
        return this.#answerTokens;
    }

    /** The verdict grammar (in the model's own tokens unless `layoutTokens: 'any'`). */
    grammar(options: Pick<RecipeOptions, 'maxRationaleChars' | 'rationale' | 'layoutTokens'> = {}): string {
        const { maxRationaleChars, rationale = true, layoutTokens = 'canonical' } = options;
        if (layoutTokens !== 'canonical' && layoutTokens !== 'any')
            throw new TypeError(`layoutTokens must be 'canonical' or 'any', got ${String(layoutTokens)}`);
        const key = `${maxRationaleChars ?? ''}:${rationale}:${layoutTokens}`;
        let grammar = this.#grammars.get(key);
        if (!grammar) {
            grammar =
                layoutTokens === 'canonical'
                    ? buildVerdictTokenGrammar(this.policy, this.answerTokens, { maxRationaleChars, rationale })
                    : buildVerdictGrammar(this.policy, { maxRationaleChars, rationale });
            this.#grammars.set(key, grammar);
        }
        return grammar;
    }

    /** The verdict's likely continuations, for speculative jump-forward. */
    drafts(rationale = true): readonly string[] {
        let drafts = this.#drafts.get(rationale);
        if (!drafts) {
            drafts = Object.freeze(verdictDrafts(this.policy, { rationale }));
            this.#drafts.set(rationale, drafts);
        }
        return drafts;
    }

    /** Sampling, grammar and drafts of an assessment (the caller adds the prompt). */
    request(options: RecipeOptions = {}): Omit<GenerateOptions, 'prompt'> {
        const useGrammar = options.grammar ?? true;
        return {
            grammar: useGrammar ? this.grammar(options) : undefined,
            drafts: useGrammar ? this.drafts(options.rationale ?? true) : undefined,
            seed: options.seed,
            temperature: options.temperature ?? REFERENCE_SAMPLING.temperature,
            topP: options.topP ?? REFERENCE_SAMPLING.topP,
            topK: options.topK ?? REFERENCE_SAMPLING.topK,
            maxTokens: options.maxTokens ?? REFERENCE_SAMPLING.maxTokens,
            signal: options.signal,
        };
    }

    /** The generated text as a complete verdict, and what it says. */
    read(
        generated: { text: string; stopReason: string },
        options: RecipeOptions = {},
    ): { answer: string; verdict: ParsedVerdict } {
        // Without a rationale the grammar ends after the category: close the JSON as the model would.
        const endedAfterCategory =
            (options.grammar ?? true) && options.rationale === false && generated.stopReason === 'eog';
        const answer = LLAVAGUARD_VERDICT.complete(generated.text, { endedAfterCategory });
        return { answer, verdict: LLAVAGUARD_VERDICT.parse(answer, this.policy) };
    }
}

/** The recipes of one model, one per policy (by hash). */
export class GuardRecipes {
    readonly #model: RecipeModel;
    readonly #byPolicy = new Map<string, PolicyRecipe>();

    constructor(model: RecipeModel) {
        this.#model = model;
    }

    for(policy: Policy): PolicyRecipe {
        let recipe = this.#byPolicy.get(policy.hash);
        if (!recipe) {
            recipe = new PolicyRecipe(policy, this.#model);
            this.#byPolicy.set(policy.hash, recipe);
        }
        return recipe;
    }
}
