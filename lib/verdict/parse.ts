// Reads a LlavaGuard answer the way the reference evaluator does, with sturdier steps:
//   1. strip <s>, </s>, code fences and a "json" tag;
//   2. JSON.parse the object starting at the first "{" (string-aware, then up to the first "}");
//   3. repair: read "rating"/"category"/"rationale" field by field (a rationale cut off by the
//      token limit still yields rating and category);
//   4. fallback: the words Safe / Unsafe in the text.
// Words are matched case-sensitively as whole words, as the models write them: "Safe" is not
// part of "Unsafe" ("safe" is, which is why a lowercase search would misread every Unsafe).
import { normalizeCategory } from './category.js';
import { categoryStringsOf, type CategorySource, type ParsedVerdict, type ParseMethod, type Rating } from './types.js';

export class VerdictParseError extends Error {
    readonly raw: string;
    /** Why the generation stopped, where a generation was read (e.g. 'maxTokens': cut before a rating). */
    stopReason?: string;
    /** Its token counts, likewise. */
    tokens?: { prompt: number; image: number; generated: number };
    constructor(message: string, raw: string) {
        super(message);
        this.name = 'VerdictParseError';
        this.raw = raw;
    }
}

export function parseVerdict(text: string, categories: CategorySource): ParsedVerdict {
    const raw = String(text);
    const strings = categoryStringsOf(categories);
    const cleaned = clean(raw);
    const start = cleaned.indexOf('{');

    if (start >= 0) {
        for (const candidate of [
            balancedObject(cleaned, start),
            cleaned.slice(start, cleaned.indexOf('}', start) + 1),
        ]) {
            const obj = tryParseObject(candidate);
            const rating = obj && toRating(obj.rating);
            if (obj && rating) return build(rating, obj.category, obj.rationale, 'json', strings);
        }
        const fields = readFields(cleaned.slice(start));
        const rating = toRating(fields.rating);
        if (rating) return build(rating, fields.category, fields.rationale, 'repaired', strings);
    }

    const hasUnsafe = /\bUnsafe\b/.test(cleaned);
    const hasSafe = /\bSafe\b/.test(cleaned);
    if (hasUnsafe !== hasSafe) {
        const category = strings.find((c) => cleaned.includes(c)) ?? null;
        return build(hasUnsafe ? 'Unsafe' : 'Safe', category, null, 'fallback', strings);
    }
    const why = hasUnsafe ? 'both "Safe" and "Unsafe" appear' : 'no rating found';
    throw new VerdictParseError(`cannot read a LlavaGuard verdict (${why}): ${preview(raw)}`, raw);
}

function build(
    rating: Rating,
    category: unknown,
    rationale: unknown,
    parsedBy: ParseMethod,
    strings: readonly string[],
): ParsedVerdict {
    const c = normalizeCategory(category, strings);
    return {
        rating,
        category: c.category,
        rationale: typeof rationale === 'string' ? rationale : null,
        unsafe: rating === 'Unsafe',
        parsedBy,
        categoryKnown: c.known,
    };
}

function clean(raw: string): string {
    return raw
        .replace(/<\/?s>/g, '')
        .replace(/```(?:json)?/gi, '')
        .replace(/^\s*json\b/i, '')
        .trim();
}

// Older templates answered Compliant / Review Needed; lower-case answers are tolerated too.
function toRating(v: unknown): Rating | undefined {
    if (typeof v !== 'string') return undefined;
    const s = v.trim().toLowerCase();
    if (s === 'safe' || s === 'compliant') return 'Safe';
    if (s === 'unsafe' || s === 'review needed') return 'Unsafe';
    return undefined;
}

function tryParseObject(candidate: string | undefined): Record<string, unknown> | undefined {
    if (!candidate) return undefined;
    try {
        const v = JSON.parse(candidate);
        return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
    } catch {
        return undefined;
    }
}

// The object from text[start] ("{") to its matching "}", skipping braces inside strings.
function balancedObject(text: string, start: number): string | undefined {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
        const ch = text[i];
        if (inString) {
            if (ch === '\\') i++;
            else if (ch === '"') inString = false;
        } else if (ch === '"') inString = true;
        else if (ch === '{') depth++;
        else if (ch === '}' && --depth === 0) return text.slice(start, i + 1);
    }
    return undefined;
}

// Field-by-field reading of broken JSON: either quote style (the reference used ast.literal_eval),
// and a string value may run to the end of the text (truncated output).
function readFields(text: string): { rating?: string; category?: string; rationale?: string } {
    const field = (key: string) => {
        const m = new RegExp(`["']${key}["']\\s*:\\s*(["'])((?:\\\\.|(?!\\1)[^\\\\])*)(\\1)?`, 's').exec(text);
        return m ? unescapeValue(m[2], m[1]) : undefined;
    };
    return { rating: field('rating'), category: field('category'), rationale: field('rationale') };
}

function unescapeValue(body: string, quote: string): string {
    const trimmed = dropCutEscape(body);
    if (quote === '"') {
        try {
            return JSON.parse(`"${trimmed}"`);
        } catch {
            /* fall through: raw control characters or invalid escapes */
        }
    }
    return trimmed
        .replace(/\\(["'\\/])/g, '$1')
        .replace(/\\n/g, '\n')
        .replace(/\\t/g, '\t');
}

// A value truncated mid-escape ends in an odd run of backslashes, maybe followed by part of \uXXXX.
function dropCutEscape(body: string): string {
    const m = /(\\+)(u[0-9a-fA-F]{0,3})?$/.exec(body);
    if (!m || m[1].length % 2 === 0) return body;
    return body.slice(0, m.index + m[1].length - 1);
}

const preview = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 117)}...` : s);
