export type Rating = 'Safe' | 'Unsafe';

export const RATINGS: readonly Rating[] = Object.freeze(['Safe', 'Unsafe']);

export interface Verdict {
    readonly rating: Rating;
    /** One of the policy's category strings, or the model's raw answer when it matched none. */
    readonly category: string | null;
    readonly rationale: string | null;
    readonly unsafe: boolean;
}

/**
 * How the answer was read: 'json' = the JSON object parsed; 'repaired' = broken or truncated JSON
 * read field by field; 'fallback' = no fields, only a Safe/Unsafe word in the text.
 */
export type ParseMethod = 'json' | 'repaired' | 'fallback';

export interface ParsedVerdict extends Verdict {
    readonly parsedBy: ParseMethod;
    /** False when category is null or a raw answer outside the policy's category strings. */
    readonly categoryKnown: boolean;
}

/** Anything that lists the strings a model may answer in "category" (a Policy does). */
export type CategorySource = readonly string[] | { readonly categoryStrings: readonly string[] };

export const categoryStringsOf = (source: CategorySource): readonly string[] =>
    Array.isArray(source) ? source : (source as { categoryStrings: readonly string[] }).categoryStrings;

/** The categories a verdict with this rating may name (the grammars, drafts and score mode all ask this). */
export function categoriesFor(source: CategorySource, _rating: Rating): readonly string[] {
    return [...new Set(categoryStringsOf(source))];
}

/** Every (rating, category) answer a verdict may give, ratings in RATINGS order. */
export function verdictAnswers(source: CategorySource): Array<{ rating: Rating; category: string }> {
    return RATINGS.flatMap((rating) => categoriesFor(source, rating).map((category) => ({ rating, category })));
}
