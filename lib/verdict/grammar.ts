// A GBNF grammar (llama.cpp dialect) that forces the exact answer layout of the training targets (format.ts).
import { LLAVAGUARD_VERDICT as FORMAT, jsonStringContent } from './format.js';
import { RATINGS, categoriesFor, categoryStringsOf, verdictAnswers, type CategorySource } from './types.js';

export { jsonStringContent };

/** Everything the model writes before its first choice (the rating). */
export const VERDICT_PREFIX = FORMAT.prefix;
/** What closes the JSON when the grammar stops after the category (rationale: false). */
export const VERDICT_CLOSE_WITHOUT_RATIONALE = FORMAT.closeWithoutRationale;

// llama.cpp turns x{0,N} into N rules and silently treats N > 2000 as unbounded
// (MAX_REPETITION_THRESHOLD in llama-grammar.cpp), so a usable bound stays below that.
export const MAX_RATIONALE_CHARS = 1999;

// Any JSON string character: no raw control characters (nor DEL, as in llama.cpp's json.gbnf), '"' and '\'
// only escaped. Listed as the Unicode scalar values rather than negated: llama.cpp decodes any lead byte up to
// 0xF7 and would accept surrogates and values above U+10FFFF, which are not UTF-8 (a random-weight model wrote
// F5..F7 sequences, which reached JS as U+FFFD).
export const JSON_CHAR_RULE =
    'json-char ::= [\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E\\x80-\\uD7FF\\uE000-\\U0010FFFF] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})';

export interface VerdictGrammarOptions {
    /** Include the rationale field (default true). When false the grammar ends after the category's closing quote. */
    readonly rationale?: boolean;
    /** Upper bound on rationale characters (escapes count as one); needed for models whose text never ends. */
    readonly maxRationaleChars?: number;
}

/** The distinct category strings, after checking what every verdict grammar builder takes. */
export function checkedCategories(
    builder: string,
    categories: CategorySource,
    maxRationaleChars: number | undefined,
): string[] {
    const strings = categoryStringsOf(categories);
    if (strings.length === 0) throw new RangeError(`${builder} needs at least one category string`);
    if (
        maxRationaleChars !== undefined &&
        !(Number.isInteger(maxRationaleChars) && maxRationaleChars >= 0 && maxRationaleChars <= MAX_RATIONALE_CHARS)
    ) {
        throw new RangeError(
            `maxRationaleChars must be an integer from 0 to ${MAX_RATIONALE_CHARS}, got ${maxRationaleChars}`,
        );
    }
    return [...new Set(strings)];
}

/** The verdict's literal text before the rationale (or up to the category's closing quote), once per answer. */
export function verdictLayouts(categories: CategorySource, rationale = true): string[] {
    return verdictAnswers(categories).map((a) => FORMAT.layout(a.rating, a.category, rationale));
}

/** The rules of the free-text rationale (`rationale`, `json-char`), at most maxRationaleChars characters. */
export function rationaleRules(maxRationaleChars: number | undefined): string[] {
    const repeat = maxRationaleChars === undefined ? '*' : `{0,${maxRationaleChars}}`;
    return [`rationale ::= json-char${repeat}`, JSON_CHAR_RULE];
}

export function buildVerdictGrammar(categories: CategorySource, options: VerdictGrammarOptions = {}): string {
    const { rationale = true, maxRationaleChars } = options;
    checkedCategories('buildVerdictGrammar', categories, maxRationaleChars);
    const after = rationale ? 'rationale-field' : gbnfLiteral(FORMAT.afterCategory(false));
    const choices = RATINGS.map((rating) => ({ rating, categories: categoriesFor(categories, rating) })).filter(
        (c) => c.categories.length > 0,
    );
    const lines = [
        // An optional leading space: after Vicuna's "ASSISTANT:" a SentencePiece model starts its answer with
        // the token "▁{" (" {"); forbidding it would push the model onto byte tokens it never produced in training.
        `root ::= " "? ${gbnfLiteral(FORMAT.prefix)} answer ${after}`,
        `answer ::= ${choices.map((c) => `${gbnfLiteral(FORMAT.beforeCategory(c.rating).slice(FORMAT.prefix.length))} category-${c.rating.toLowerCase()}`).join(' | ')}`,
        ...choices.map(
            (c) =>
                `category-${c.rating.toLowerCase()} ::= ${c.categories.map((s) => gbnfLiteral(jsonStringContent(s))).join(' | ')}`,
        ),
    ];
    if (rationale) {
        lines.push(
            `rationale-field ::= ${gbnfLiteral(FORMAT.afterCategory(true))} rationale ${gbnfLiteral(FORMAT.closeAfterRationale)}`,
            ...rationaleRules(maxRationaleChars),
        );
    }
    return `${lines.join('\n')}\n`;
}

/**
 * A GBNF string literal matching exactly s. '"' and '\' are escaped, printable ASCII is kept, and
 * every other code point (newlines, non-ASCII) becomes \uXXXX or \UXXXXXXXX so the grammar stays ASCII.
 */
export function gbnfLiteral(s: string): string {
    let out = '"';
    for (const ch of s) {
        const cp = ch.codePointAt(0)!;
        if (ch === '"' || ch === '\\') out += `\\${ch}`;
        else if (cp >= 0x20 && cp < 0x7f) out += ch;
        else if (cp === 0x0a) out += '\\n';
        else if (cp <= 0xffff) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
        else out += `\\U${cp.toString(16).toUpperCase().padStart(8, '0')}`;
    }
    return `${out}"`;
}
