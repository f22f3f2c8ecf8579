// Maps what a model wrote in "category" onto the policy's category strings.
export interface NormalizedCategory {
    readonly category: string | null;
    readonly known: boolean;
}

export function normalizeCategory(raw: unknown, categoryStrings: readonly string[]): NormalizedCategory {
    if (typeof raw !== 'string' || raw.trim() === '') return { category: null, known: false };
    const text = raw.trim();
    if (categoryStrings.includes(text)) return { category: text, known: true };
    const squash = (s: string) => s.toLowerCase().replace(/\s+/g, ' ');
    const loose = categoryStrings.find((c) => squash(c) === squash(text));
    if (loose) return { category: loose, known: true };
    // "O3", "O3:", "o3 - sexual" or the name alone ("Sexual Content"): a boundary after the id
    // keeps "O10" from matching "O1".
    for (const c of categoryStrings) {
        const sep = c.indexOf(': ');
        if (sep < 0) continue;
        const id = c.slice(0, sep);
        const name = c.slice(sep + 2);
        const idPattern = new RegExp(`^${escapeRegExp(id)}(?![A-Za-z0-9_.])`, 'i');
        if (idPattern.test(text) || squash(name) === squash(text)) return { category: c, known: true };
    }
    return { category: text, known: false };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
