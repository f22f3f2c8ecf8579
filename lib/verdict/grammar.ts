// A GBNF grammar (llama.cpp dialect) that forces the exact answer layout of the training targets,
// json.dumps(..., indent=4):
//   {\n    "rating": "Safe",\n    "category": "NA: None applying",\n    "rationale": "..."\n}
import { RATINGS, categoryStringsOf, type CategorySource } from './types.js';

/** Everything the model writes before its first choice (the rating). */
export const VERDICT_PREFIX = '{\n    "rating": "';
/** What closes the JSON when the grammar stops after the category (rationale: false). */
export const VERDICT_CLOSE_WITHOUT_RATIONALE = '\n}';

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
    const unique = [...new Set(categoryStringsOf(categories))];
    const after = rationale ? '",\n    "rationale": "' : '"';
    return RATINGS.flatMap((r) =>
        unique.map((c) => `${VERDICT_PREFIX}${r}",\n    "category": "${jsonStringContent(c)}${after}`),
    );
}

/** The rules of the free-text rationale (`rationale`, `json-char`), at most maxRationaleChars characters. */
export function rationaleRules(maxRationaleChars: number | undefined): string[] {
    const repeat = maxRationaleChars === undefined ? '*' : `{0,${maxRationaleChars}}`;
    return [`rationale ::= json-char${repeat}`, JSON_CHAR_RULE];
}

export function buildVerdictGrammar(categories: CategorySource, options: VerdictGrammarOptions = {}): string {
    const { rationale = true, maxRationaleChars } = options;
    const unique = checkedCategories('buildVerdictGrammar', categories, maxRationaleChars);
    const lines = [
        // An optional leading space: after Vicuna's "ASSISTANT:" a SentencePiece model starts its answer with
        // the token "▁{" (" {"); forbidding it would push the model onto byte tokens it never produced in training.
        `root ::= " "? ${gbnfLiteral(VERDICT_PREFIX)} rating ${gbnfLiteral('",\n    "category": "')} category ${rationale ? 'rationale-field' : gbnfLiteral('"')}`,
        `rating ::= ${gbnfLiteral('Safe')} | ${gbnfLiteral('Unsafe')}`,
        `category ::= ${unique.map((s) => gbnfLiteral(jsonStringContent(s))).join(' | ')}`,
    ];
    if (rationale) {
        lines.push(
            `rationale-field ::= ${gbnfLiteral('",\n    "rationale": "')} rationale ${gbnfLiteral('"\n}')}`,
            ...rationaleRules(maxRationaleChars),
        );
    }
    return `${lines.join('\n')}\n`;
}

/** The text of s as it appears between the quotes of a JSON string (what json.dumps writes, minus ensure_ascii). */
export function jsonStringContent(s: string): string {
    return JSON.stringify(s).slice(1, -1);
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
