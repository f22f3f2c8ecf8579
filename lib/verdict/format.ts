// The verdict's text format in one object, as the training targets wrote it (json.dumps(..., indent=4)):
//   {\n    "rating": "Safe",\n    "category": "NA: None applying",\n    "rationale": "..."\n}
// Everything that writes the layout (grammars, drafts, score mode's continuations) or reads it back (the
// stream's early rating, closing a verdict that stopped after the category, parsing) asks this object, so the
// layout is spelled in one place.
import { parseVerdict } from './parse.js';
import { RATINGS, type CategorySource, type ParsedVerdict, type Rating } from './types.js';

export interface VerdictFormat {
    /** Everything before the first choice (the rating). */
    readonly prefix: string;
    /** The text from the start up to the category's value, for an answer with this rating. */
    beforeCategory(rating: Rating): string;
    /** After the category's value: the rationale field's opening, or (without a rationale) the closing quote. */
    afterCategory(rationale: boolean): string;
    /** What closes the verdict after the rationale's text. */
    readonly closeAfterRationale: string;
    /** What closes the JSON when the answer stopped right after the category (rationale: false). */
    readonly closeWithoutRationale: string;
    /** The literal text of one answer up to the rationale's text (or to the category's closing quote). */
    layout(rating: Rating, category: string, rationale: boolean): string;
    /** The whole verdict text. */
    render(verdict: { rating: Rating; category: string; rationale: string | null }): string;
    /** The rating once the text generated so far has decided it (in a stream), else undefined. */
    decidedRating(text: string): Rating | undefined;
    /**
     * The answer as a complete verdict: an answer the grammar ended after the category (no rationale) gets the
     * closing text the model would have written.
     */
    complete(text: string, how: { endedAfterCategory: boolean }): string;
    /** Reads an answer back (tolerant: see parse.ts). */
    parse(text: string, categories: CategorySource): ParsedVerdict;
}

/** A JSON string's content as json.dumps writes it (without ensure_ascii): the text between the quotes. */
export function jsonStringContent(s: string): string {
    return JSON.stringify(s).slice(1, -1);
}

const PREFIX = '{\n    "rating": "';
const CATEGORY_KEY = '",\n    "category": "';
const RATIONALE_KEY = '",\n    "rationale": "';
const DECIDED = new RegExp(`"rating"\\s*:\\s*"(${RATINGS.join('|')})"`);

/** The layout LlavaGuard's training targets have (and the reference evaluator reads). */
export const LLAVAGUARD_VERDICT: VerdictFormat = Object.freeze({
    prefix: PREFIX,
    beforeCategory: (rating: Rating) => `${PREFIX}${rating}${CATEGORY_KEY}`,
    afterCategory: (rationale: boolean) => (rationale ? RATIONALE_KEY : '"'),
    closeAfterRationale: '"\n}',
    closeWithoutRationale: '\n}',
    layout(rating: Rating, category: string, rationale: boolean): string {
        return `${this.beforeCategory(rating)}${jsonStringContent(category)}${this.afterCategory(rationale)}`;
    },
    render(v: { rating: Rating; category: string; rationale: string | null }): string {
        const head = this.layout(v.rating, v.category, v.rationale !== null);
        return v.rationale === null
            ? head + this.closeWithoutRationale
            : `${head}${jsonStringContent(v.rationale)}${this.closeAfterRationale}`;
    },
    decidedRating: (text: string) => DECIDED.exec(text)?.[1] as Rating | undefined,
    complete(text: string, how: { endedAfterCategory: boolean }): string {
        return how.endedAfterCategory ? text + this.closeWithoutRationale : text;
    },
    parse: parseVerdict,
});
