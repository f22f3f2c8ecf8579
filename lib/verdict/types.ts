import { NONE_APPLYING } from '../policy/taxonomy.js';

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

/**
 * Anything that lists the strings a model may answer in "category" (a Policy does), and which of them the policy
 * declares violating (a Policy: its categories not allowed). A plain list declares every string but NA violating.
 */
export type CategorySource =
    | readonly string[]
    | { readonly categoryStrings: readonly string[]; readonly violatingCategoryStrings?: readonly string[] };

export const categoryStringsOf = (source: CategorySource): readonly string[] =>
    Array.isArray(source) ? source : (source as { categoryStrings: readonly string[] }).categoryStrings;

/** The categories an Unsafe verdict may name: those the source declares violating, never NA. */
export function violatingCategoriesOf(source: CategorySource): readonly string[] {
    const declared = Array.isArray(source)
        ? undefined
        : (source as { violatingCategoryStrings?: readonly string[] }).violatingCategoryStrings;
    return (declared ?? categoryStringsOf(source)).filter((c) => c !== NONE_APPLYING);
}

/**
 * The categories a verdict with this rating may name (the grammars, drafts and score mode all ask this). Unsafe:
 * one the policy declares violating (an unsafe image violates a category; NA or an allowed category would
 * contradict the rating). Safe: any, since a safe image keeps its content's category (an allowed one, or a
 * violating one under a policy exception, as the v2 augmentation teaches).
 */
export function categoriesFor(source: CategorySource, rating: Rating): readonly string[] {
    const all = [...new Set(categoryStringsOf(source))];
    if (rating === 'Safe') return all;
    const violating = new Set(violatingCategoriesOf(source));
    return all.filter((c) => violating.has(c));
}

/** Every (rating, category) answer a verdict may give, ratings in RATINGS order. */
export function verdictAnswers(source: CategorySource): Array<{ rating: Rating; category: string }> {
    return RATINGS.flatMap((rating) => categoriesFor(source, rating).map((category) => ({ rating, category })));
}
