// OpenAI's moderation categories from a LlavaGuard policy's. OpenAI's omni-moderation reports 13 fixed keys;
// LlavaGuard's nine categories (O1-O9) map onto them as below, categories a policy adds map where the request's
// `category_map` says (else nowhere), and the keys no LlavaGuard category covers stay 0 / false.
import type { Policy } from '../policy/index.js';

export const OPENAI_CATEGORIES = [
    'harassment',
    'harassment/threatening',
    'hate',
    'hate/threatening',
    'illicit',
    'illicit/violent',
    'self-harm',
    'self-harm/intent',
    'self-harm/instructions',
    'sexual',
    'sexual/minors',
    'violence',
    'violence/graphic',
] as const;

export type OpenAICategory = (typeof OPENAI_CATEGORIES)[number];

/** LlavaGuard's category ids to OpenAI's keys (README: "Category mapping"). */
export const DEFAULT_CATEGORY_MAP: Readonly<Record<string, readonly OpenAICategory[]>> = Object.freeze({
    O1: ['hate', 'harassment'], // Hate, Humiliation, Harassment
    O2: ['violence'], // Violence, Harm, or Cruelty
    O3: ['sexual'], // Sexual Content
    O4: ['sexual'], // Nudity Content
    O5: ['illicit'], // Criminal Planning
    O6: ['illicit', 'illicit/violent'], // Weapons or Substance Abuse
    O7: ['self-harm'], // Self-Harm
    O8: ['violence'], // Animal Cruelty
    O9: ['violence/graphic'], // Disasters or Emergencies
});

export interface CategoryScores {
    /** P(Unsafe) at the rating position. */
    unsafeProbability: number;
    /** The policy's category strings ("O3: Sexual Content") with their probabilities. */
    categoryProbabilities: Record<string, number>;
}

export interface OpenAIResultCategories {
    categories: Record<OpenAICategory, boolean>;
    category_scores: Record<OpenAICategory, number>;
    category_applied_input_types: Record<OpenAICategory, ('image' | 'text')[]>;
}

/**
 * category_scores[key] = P(Unsafe) x the summed probability of the policy's violating (not allowed) categories
 * that map to key; categories[key] = the verdict is unsafe and its category maps to key.
 */
export function toOpenAICategories(
    policy: Policy,
    scores: CategoryScores,
    verdict: { unsafe: boolean; category: string | null },
    extraMap: Readonly<Record<string, readonly OpenAICategory[]>> = {},
): OpenAIResultCategories {
    const map = { ...DEFAULT_CATEGORY_MAP, ...extraMap };
    const categories = {} as Record<OpenAICategory, boolean>;
    const categoryScores = {} as Record<OpenAICategory, number>;
    const applied = {} as Record<OpenAICategory, ('image' | 'text')[]>;
    const covered = new Set(policy.categories.flatMap((c) => map[c.id] ?? []));
    for (const key of OPENAI_CATEGORIES) {
        categories[key] = false;
        categoryScores[key] = 0;
        applied[key] = covered.has(key) ? ['image'] : [];
    }
    for (const c of policy.categories) {
        if (c.status === 'allowed') continue;
        const p = scores.categoryProbabilities[c.label] ?? 0;
        for (const key of map[c.id] ?? []) {
            categoryScores[key] += scores.unsafeProbability * p;
            if (verdict.unsafe && verdict.category === c.label) categories[key] = true;
        }
    }
    for (const key of OPENAI_CATEGORIES) categoryScores[key] = Math.min(1, categoryScores[key]);
    return { categories, category_scores: categoryScores, category_applied_input_types: applied };
}
