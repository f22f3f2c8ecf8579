// The tokens of an answer as the training text tokenized them: the answer follows the prompt in one string
// (Vicuna: "ASSISTANT: {...", so a SentencePiece model writes "▁{"; ChatML: "assistant\n{...", "{"), so its
// tokens are those of prompt + separator + answer after the prompt's own. Tokenized alone the answer would
// take SentencePiece's leading "▁" where the training text had none, or lose it where it had one.
import type { PromptText, TextPart } from '../tokenize/index.js';
import type { LayoutTokenizer } from '../verdict/index.js';

export interface TokenizerOf {
    tokenize(text: PromptText, options?: { addSpecial?: boolean; parseSpecial?: boolean }): ArrayLike<number>;
}

/**
 * promptTail: the end of the prompt (the text after the image is enough); separator: what the chat format puts
 * between the generation prompt and the answer. Where the prompt's last token would merge with the answer
 * (no token boundary there), the answer is tokenized alone (as the tokenizer starts a text).
 */
export function answerTokenizer(
    model: TokenizerOf,
    promptTail: string | readonly TextPart[],
    separator: string,
): LayoutTokenizer {
    // The answer is the model's own text: no special tokens are read in it.
    const tail: readonly TextPart[] =
        typeof promptTail === 'string' ? [{ text: promptTail, parseSpecial: true }] : promptTail;
    const tokenize = (after: string) =>
        Array.from(model.tokenize([...tail, { text: after, parseSpecial: false }], { addSpecial: false }));
    const prompt = tokenize('');
    // Each call tokenizes the whole tail again; the grammar and score mode ask for the same few answers.
    const known = new Map<string, number[]>();
    return (answer: string) => {
        let tokens = known.get(answer);
        if (!tokens) {
            const all = tokenize(separator + answer);
            const boundary = all.length > prompt.length && prompt.every((t, i) => all[i] === t);
            tokens = boundary
                ? all.slice(prompt.length)
                : Array.from(model.tokenize(answer, { addSpecial: false, parseSpecial: false }));
            known.set(answer, tokens);
        }
        return tokens;
    };
}
