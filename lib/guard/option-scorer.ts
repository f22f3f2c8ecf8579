import type { DirectContext } from '../runtime/VisionContext.js';
import type { LayoutTokenizer } from '../verdict/index.js';

/** The prompt the options continue: evaluated into `sequence`, it ends at position `end` with these `logits`. */
export interface EvaluatedPrompt {
    readonly sequence: number;
    readonly end: number;
    readonly logits: Float32Array;
}

/**
 * Teacher-forced probabilities of a closed set of continuations (e.g. "Safe" / "Unsafe", or a policy's
 * category strings) after the prompt already evaluated into a sequence.
 *
 * Each option is tokenized together with the text before it, as the answer's tokens (answer-tokenizer.ts: BPE
 * merges across the junction, `"Safe` can be one token), the shared token prefix is evaluated once, and the options' remaining tokens form a trie: only
 * trie nodes where options part ways need a forward pass. An option's probability is the product of its
 * branch probabilities, normalised over the options.
 */
export class OptionScorer {
    readonly #ctx: DirectContext;
    readonly #tokenize: LayoutTokenizer;
    readonly #sequence: number;
    readonly #promptEnd: number;
    /** Assistant tokens now in the sequence after the prompt. */
    #evaluated: number[] = [];
    #lastLogits: Float32Array;
    readonly #promptLogits: Float32Array;
    forwardPasses = 0;

    constructor(ctx: DirectContext, tokenize: LayoutTokenizer, prompt: EvaluatedPrompt) {
        this.#ctx = ctx;
        this.#tokenize = tokenize;
        this.#sequence = prompt.sequence;
        this.#promptEnd = prompt.end;
        this.#promptLogits = prompt.logits;
        this.#lastLogits = prompt.logits;
    }

    async score(before: string, options: readonly string[], signal?: AbortSignal): Promise<number[]> {
        const tokenized = options.map((o) => Array.from(this.#tokenize(before + o)));
        const common = commonPrefixLength(tokenized);
        const logits = await this.#extendTo(tokenized[0]!.slice(0, common), signal);
        const probs = new Array<number>(options.length).fill(0);
        await this.#walk(
            common,
            tokenized.map((t, i) => ({ index: i, tokens: t })),
            logits,
            1,
            probs,
            signal,
        );
        const sum = probs.reduce((a, b) => a + b, 0);
        return probs.map((p) => (sum > 0 ? p / sum : 1 / options.length));
    }

    async #walk(
        depth: number,
        group: Array<{ index: number; tokens: number[] }>,
        logits: Float32Array,
        mass: number,
        out: number[],
        signal?: AbortSignal,
    ): Promise<void> {
        const dist = softmax(logits);
        const byToken = new Map<number, Array<{ index: number; tokens: number[] }>>();
        for (const o of group) {
            const next = o.tokens[depth];
            if (next === undefined) {
                out[o.index] = mass; // an option that is a prefix of another ends here
                continue;
            }
            byToken.set(next, [...(byToken.get(next) ?? []), o]);
        }
        for (const [token, members] of byToken) {
            const p = mass * dist[token]!;
            if (members.length === 1) {
                out[members[0]!.index] = p;
                continue;
            }
            const next = await this.#extendTo([...members[0]!.tokens.slice(0, depth + 1)], signal);
            await this.#walk(depth + 1, members, next, p, out, signal);
        }
    }

    /** Makes the sequence hold exactly `tokens` after the prompt and returns the logits after them. */
    async #extendTo(tokens: number[], signal?: AbortSignal): Promise<Float32Array> {
        const keep = commonPrefixLength([this.#evaluated, tokens]);
        if (keep === tokens.length && keep === this.#evaluated.length) return this.#lastLogits;
        // Cells after the prompt are discarded by the next evaluation anyway (keepPrefix).
        if (tokens.length === 0) return this.#promptLogits;
        // Re-evaluate at least one token: logits exist only for the latest decode.
        const from = Math.min(keep, tokens.length - 1);
        const r = await this.#ctx.evaluate({
            prompt: { tokens: tokens.slice(from) },
            sequence: this.#sequence,
            keepPrefix: this.#promptEnd + from,
            logits: true,
            signal,
        });
        this.forwardPasses += r.forwardPasses;
        this.#evaluated = tokens.slice();
        this.#lastLogits = r.logits!;
        return r.logits!;
    }
}

function commonPrefixLength(lists: number[][]): number {
    const first = lists[0] ?? [];
    let n = 0;
    while (n < first.length && lists.every((l) => l[n] === first[n])) n++;
    return n;
}

function softmax(logits: Float32Array): Float64Array {
    let max = -Infinity;
    for (const v of logits) if (v > max) max = v;
    const out = new Float64Array(logits.length);
    let sum = 0;
    for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
    for (let i = 0; i < out.length; i++) out[i]! /= sum;
    return out;
}
