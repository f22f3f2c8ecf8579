// Score mode's reading of the verdict: P(rating) at the rating position, then P(category | rating) at the
// category choice, over exactly the answers the verdict grammar allows (categoriesFor): under Unsafe only the
// policy's violating categories, so the probabilities describe the verdicts the guard can give.
import type { Policy } from '../policy/index.js';
import { LLAVAGUARD_VERDICT, RATINGS, categoriesFor, jsonStringContent, type Rating } from '../verdict/index.js';
import type { OptionScorer } from './option-scorer.js';

export interface VerdictScores {
    ratingProbabilities: Record<Rating, number>;
    /** The more probable rating; the categories are scored after it. */
    rating: Rating;
    /** Every category string of the policy: those the rating cannot name have probability 0. */
    categoryProbabilities: Record<string, number>;
    category: string;
}

export async function scoreVerdict(
    scorer: OptionScorer,
    policy: Policy,
    signal: AbortSignal | undefined,
): Promise<VerdictScores> {
    // A rating with no category to name (Unsafe under a policy that allows everything) cannot be written.
    const ratings = RATINGS.filter((r) => categoriesFor(policy, r).length > 0);
    const ratingProbs = await scorer.score(
        LLAVAGUARD_VERDICT.prefix,
        ratings.map((r) => `${r}"`),
        signal,
    );
    const ratingProbabilities = { Safe: 0, Unsafe: 0 };
    for (const [i, r] of ratings.entries()) ratingProbabilities[r] = ratingProbs[i]!;
    const rating: Rating = ratingProbabilities.Unsafe > ratingProbabilities.Safe ? 'Unsafe' : 'Safe';

    const allowed = categoriesFor(policy, rating);
    const probs = await scorer.score(
        LLAVAGUARD_VERDICT.beforeCategory(rating),
        allowed.map((c) => `${jsonStringContent(c)}"`),
        signal,
    );
    const byCategory = new Map(allowed.map((c, i) => [c, probs[i]!]));
    const categories = policy.categoryStrings;
    const categoryProbabilities = Object.fromEntries(categories.map((c) => [c, byCategory.get(c) ?? 0]));
    const category = categories.reduce((a, c) => (categoryProbabilities[c]! > categoryProbabilities[a]! ? c : a));
    return { ratingProbabilities, rating, categoryProbabilities, category };
}
