// The tokens a Hugging Face tokenizer "adds" to its model (tokenizer.json added_tokens), which it finds in a text
// before normalizing and tokenizing the rest: special ones only when special tokens are parsed, the others always.
// Read from the GGUF's token types, as our converter marks them (special -> CONTROL, else USER_DEFINED; LLaMA's
// <unk> is UNKNOWN). llama.cpp itself re-marks some ordinary tokens as control when it loads a vocabulary (any
// token spelt "</s>", "<|end|>", "<eos>", ...: its end-of-generation heuristics), so its own special-token parsing
// cannot be used: Qwen2's BPE token "</s>" would become one token where HF keeps "</", "s", ">".
import { metaValue } from '../../gguf/reader.js';
import { TOKEN_TYPE } from '../../gguf/metadata.js';
import type { GgufHeader } from '../../gguf/types.js';

export interface AddedToken {
    readonly id: number;
    readonly text: string;
    /** Found only where special tokens are parsed. */
    readonly special: boolean;
}

/** A piece of a text: plain text to tokenize, or an added token found in it. */
export type Fragment = { readonly text: string } | { readonly token: AddedToken };

export class AddedTokens {
    readonly all: readonly AddedToken[];
    /** Candidates by first UTF-16 unit, longest first: the leftmost-longest match HF's matcher makes. */
    readonly #byFirst = new Map<string, AddedToken[]>();

    constructor(tokens: readonly AddedToken[]) {
        this.all = tokens;
        for (const t of tokens) {
            if (t.text === '') continue;
            const first = t.text[0]!;
            const list = this.#byFirst.get(first) ?? [];
            list.push(t);
            this.#byFirst.set(first, list);
        }
        for (const list of this.#byFirst.values()) list.sort((a, b) => b.text.length - a.text.length);
    }

    static fromHeader(header: Pick<GgufHeader, 'metadata'>): AddedTokens {
        const tokens = metaValue(header, 'tokenizer.ggml.tokens');
        const types = metaValue(header, 'tokenizer.ggml.token_type');
        if (!Array.isArray(tokens)) throw new TypeError('the GGUF has no tokenizer.ggml.tokens');
        const added: AddedToken[] = [];
        if (!Array.isArray(types)) return new AddedTokens(added);
        types.forEach((type, id) => {
            const text = tokens[id];
            if (typeof text !== 'string') return;
            if (type === TOKEN_TYPE.CONTROL || type === TOKEN_TYPE.UNKNOWN) added.push({ id, text, special: true });
            else if (type === TOKEN_TYPE.USER_DEFINED) added.push({ id, text, special: false });
        });
        return new AddedTokens(added);
    }

    /** Cuts `text` at the added tokens it holds (special ones only when `parseSpecial`), leftmost-longest first. */
    split(text: string, parseSpecial: boolean): Fragment[] {
        const out: Fragment[] = [];
        let plainFrom = 0;
        let i = 0;
        while (i < text.length) {
            const match = this.#byFirst
                .get(text[i]!)
                ?.find((t) => (parseSpecial || !t.special) && text.startsWith(t.text, i));
            if (!match) {
                i++;
                continue;
            }
            if (i > plainFrom) out.push({ text: text.slice(plainFrom, i) });
            out.push({ token: match });
            i += match.text.length;
            plainFrom = i;
        }
        if (plainFrom < text.length) out.push({ text: text.slice(plainFrom) });
        return out;
    }
}
