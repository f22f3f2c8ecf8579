// A model's text tokenizer as Hugging Face's: added tokens split out first (special ones only where special tokens
// are parsed), the plain text between normalized as the tokenizer.json says, then llama.cpp's BPE / SentencePiece
// (without its own special-token parsing) on each run of plain text. A prompt is given in parts, so that only the
// chat template's own text is parsed for special tokens and a client's text (a policy, a message) never is.
import type { GgufHeader } from '../../gguf/types.js';
import { AddedTokens, type AddedToken } from './added-tokens.js';
import { normalizeText, unicodeNormalizerOf, type UnicodeNormalizer } from './normalizer.js';

/** A part of a prompt: the chat template's own text (special tokens parsed) or text a client gave (never). */
export interface TextPart {
    readonly text: string;
    readonly parseSpecial: boolean;
}

/** A prompt's text: one string, or its parts in order. */
export type PromptText = string | readonly TextPart[];

export interface TokenizeOptions {
    /** Add BOS (and EOS) as llama.cpp's tokenizer does for a whole prompt. Default false. */
    addSpecial?: boolean;
    /** For a string: read special-token text such as <|im_start|> as those tokens. Default true. */
    parseSpecial?: boolean;
}

/** llama.cpp's tokenizer of plain text (llama_tokenize with neither special tokens added nor parsed). */
export type PlainTokenizer = (text: string) => Int32Array;

type Piece = { readonly text: string } | { readonly token: AddedToken } | { readonly media: true };

export class TextTokenizer {
    readonly added: AddedTokens;
    readonly normalizer: UnicodeNormalizer;
    readonly #plain: PlainTokenizer;
    /** BOS / EOS around a whole prompt with addSpecial, measured from llama.cpp once. */
    #specials: { before: number[]; after: number[] } | undefined;
    readonly #withSpecial: (text: string) => Int32Array;

    /** `plain` tokenizes plain text; `withSpecial` is llama_tokenize with add_special (to learn BOS / EOS). */
    constructor(header: Pick<GgufHeader, 'metadata'>, plain: PlainTokenizer, withSpecial: PlainTokenizer) {
        this.added = AddedTokens.fromHeader(header);
        this.normalizer = unicodeNormalizerOf(header);
        this.#plain = plain;
        this.#withSpecial = withSpecial;
    }

    tokenize(text: PromptText, options: TokenizeOptions = {}): Int32Array {
        return this.tokenizeAround(text, undefined, options)[0]!;
    }

    /**
     * The tokens of a prompt in pieces around its media: one piece before each `marker` and one after the last.
     * The marker counts only where special tokens are parsed: a client's text cannot add an image slot.
     */
    tokenizeAround(text: PromptText, marker: string | undefined, options: TokenizeOptions = {}): Int32Array[] {
        const parts: readonly TextPart[] =
            typeof text === 'string' ? [{ text, parseSpecial: options.parseSpecial ?? true }] : text;
        if (!Array.isArray(parts)) throw new TypeError('the prompt text must be a string or an array of parts');
        const pieces: Piece[] = [];
        for (const part of parts) {
            if (!part || typeof part.text !== 'string' || typeof part.parseSpecial !== 'boolean')
                throw new TypeError('each prompt part must be { text: string, parseSpecial: boolean }');
            const chunks: string[] = part.parseSpecial && marker ? part.text.split(marker) : [part.text];
            chunks.forEach((chunk, i) => {
                if (i > 0) pieces.push({ media: true });
                pieces.push(...this.added.split(chunk, part.parseSpecial));
            });
        }
        const out: number[][] = [[]];
        let plain = '';
        const flush = () => {
            if (plain !== '') out[out.length - 1]!.push(...this.#plain(normalizeText(plain, this.normalizer)));
            plain = '';
        };
        for (const piece of pieces) {
            // Plain text of adjacent parts is one run, as in the whole string: the tokenizer may merge across.
            if ('text' in piece) plain += piece.text;
            else {
                flush();
                if ('token' in piece) out[out.length - 1]!.push(piece.token.id);
                else out.push([]);
            }
        }
        flush();
        if (options.addSpecial) {
            const { before, after } = this.#specialsOf();
            out[0]!.unshift(...before);
            out[out.length - 1]!.push(...after);
        }
        return out.map((ids) => Int32Array.from(ids));
    }

    #specialsOf(): { before: number[]; after: number[] } {
        if (!this.#specials) {
            const plain = [...this.#plain('a')];
            const full = [...this.#withSpecial('a')];
            const at = full.findIndex((_, i) => plain.every((t, j) => full[i + j] === t));
            this.#specials =
                at < 0
                    ? { before: [], after: [] }
                    : { before: full.slice(0, at), after: full.slice(at + plain.length) };
        }
        return this.#specials;
    }
}
