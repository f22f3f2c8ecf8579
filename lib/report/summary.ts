// Counts for the report: totals over the last record of each path, and verdicts per category.
import { isVerdict, type ScanRecord, type ScanVerdictRecord } from '../scan/records.js';

export interface ReportTotals {
    /** Distinct paths. */
    images: number;
    safe: number;
    unsafe: number;
    errors: number;
    /** Records copied from an earlier image with the same content (verdicts and errors alike). */
    duplicates: number;
}

export interface CategoryCount {
    /** The record's category, or {@link NO_CATEGORY} when it had none. */
    category: string;
    safe: number;
    unsafe: number;
}

export const NO_CATEGORY = '(none)';

/** The record's unsafe flag (its rating when a hand-made record lacks the flag). */
export const isUnsafe = (r: ScanVerdictRecord): boolean => r.unsafe ?? r.rating === 'Unsafe';

export const categoryOf = (category: string | null | undefined): string => category ?? NO_CATEGORY;

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

export function summarize(records: Iterable<ScanRecord>): { totals: ReportTotals; categories: CategoryCount[] } {
    const totals: ReportTotals = { images: 0, safe: 0, unsafe: 0, errors: 0, duplicates: 0 };
    const categories = new Map<string, CategoryCount>();
    for (const r of records) {
        totals.images++;
        if (r.duplicateOf !== undefined) totals.duplicates++;
        if (!isVerdict(r)) {
            totals.errors++;
            continue;
        }
        const name = categoryOf(r.category);
        let c = categories.get(name);
        if (!c) {
            c = { category: name, safe: 0, unsafe: 0 };
            categories.set(name, c);
        }
        if (isUnsafe(r)) {
            totals.unsafe++;
            c.unsafe++;
        } else {
            totals.safe++;
            c.safe++;
        }
    }
    return { totals, categories: [...categories.values()].sort((a, b) => byName(a.category, b.category)) };
}

export { byName as compareNames };
