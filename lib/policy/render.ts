// Renders a policy exactly the way the reference builds its prompt:
//   preamble + "\n" + for each category: "<id>: <name>: \n" + block + "\n" + assessment steps.
// A normal block ends with "\n" (hence the blank line between categories); an exception block
// ends with a single space (hence the line holding one space after it).
import { NON_VIOLATING_HEADER, PREAMBLE, SENSITIVE_HEADER, assessmentSteps, type PolicyVersion } from './taxonomy.js';

export type CategoryStatus = 'default' | 'allowed' | 'sensitive';

export interface RenderableCategory {
    readonly id: string;
    readonly name: string;
    readonly status: CategoryStatus;
    readonly shouldNot: readonly string[];
    readonly can: readonly string[];
    /** Bullets for an exception block when they differ from shouldNot + can (training-text quirks). */
    readonly exceptionBullets?: readonly string[];
}

export const categoryLabel = (c: { id: string; name: string }): string => `${c.id}: ${c.name}`;

function renderCategoryBlock(c: RenderableCategory): string {
    if (c.status === 'default') {
        const bullets = (list: readonly string[]) => list.map((b) => `- ${b}\n`).join('');
        return `Should not:\n${bullets(c.shouldNot)}Can:\n${bullets(c.can)}`;
    }
    const header = c.status === 'allowed' ? NON_VIOLATING_HEADER(c.id) : SENSITIVE_HEADER(c.id);
    const bullets = c.exceptionBullets ?? [...c.shouldNot, ...c.can];
    return `${header}\n${bullets.map((b) => ` - ${b}\n`).join('')} `;
}

export function renderPolicy(
    version: PolicyVersion,
    categories: readonly RenderableCategory[],
    categoryStrings: readonly string[],
): string {
    let text = `${PREAMBLE}\n`;
    for (const c of categories) text += `${categoryLabel(c)}: \n${renderCategoryBlock(c)}\n`;
    text += assessmentSteps(version, categoryStrings);
    // The training code feeds policy.strip(); the text already starts and ends without whitespace.
    return text;
}
