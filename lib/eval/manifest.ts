// Labelled evaluation sets: a JSONL or CSV manifest, one sample a line/row, validated with zod.
//
//   {"path": "img/001.jpg", "rating": "Unsafe", "category": "O3", "score": "Highly Inappropriate", "split": "test"}
//
//   path,rating,category,score,split
//   img/001.jpg,Unsafe,O3: Sexual Content,Highly Inappropriate,test
//
// Keys: `path` (or `image`; relative to the manifest's folder), `rating` (Safe|Unsafe, any case),
// `category` (a category string of the policy or its id, "O3"; "NA"/empty allowed for safe samples
// only), optional `score` (the annotated severity), optional `split`, optional `id` (default: the
// path). Every problem is reported with its line and field; all problems of a file are collected
// before throwing.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { NONE_APPLYING, Policy } from '../policy/index.js';
import { parseCsv, stripBom } from '../util/csv.js';
import type { Rating } from '../verdict/index.js';

export const SCORES = Object.freeze([
    'Highly Inappropriate',
    'Moderately Inappropriate',
    'Barely Acceptable',
    'Generally Acceptable',
] as const);
export type Score = (typeof SCORES)[number];

export interface EvalSample {
    /** Unique within the manifest (the `id` field, else the path as written). */
    readonly id: string;
    /** The path as written in the manifest. */
    readonly path: string;
    /** The path resolved against the manifest's folder. */
    readonly image: string;
    readonly rating: Rating;
    /** One of the policy's category strings; "NA: None applying" for safe samples without one. */
    readonly category: string;
    /** The category's id ("O3"), or null for "NA: None applying". */
    readonly categoryId: string | null;
    readonly score?: Score;
    readonly split?: string;
    /** 1-based line of the manifest (CSV: the line the row starts on). */
    readonly line: number;
}

export interface ManifestIssue {
    readonly line: number;
    /** The offending key/column ("rating"), or null for a problem with the whole line. */
    readonly field: string | null;
    readonly message: string;
}

export class EvalManifestError extends Error {
    override readonly name = 'EvalManifestError';
    readonly issues: readonly ManifestIssue[];
    constructor(source: string, issues: readonly ManifestIssue[]) {
        const shown = issues
            .slice(0, 20)
            .map((i) => `  ${source}:${i.line}${i.field ? ` field "${i.field}"` : ''}: ${i.message}`);
        const more = issues.length > 20 ? [`  ... and ${issues.length - 20} more`] : [];
        super(
            `invalid evaluation manifest ${source} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${[...shown, ...more].join('\n')}`,
        );
        this.issues = Object.freeze([...issues]);
    }
}

export interface ParseManifestOptions {
    /** 'jsonl' or 'csv'. Default: from the source's extension (.csv = CSV), else JSONL. */
    format?: 'jsonl' | 'csv';
    /** Name used in error messages and to pick the format. Default "manifest". */
    source?: string;
    /** Folder that relative paths are resolved against. Default: the source's folder, else the cwd. */
    baseDir?: string;
    /** Policy whose category strings `category` is normalised to. Default Policy.default('v1.2'). */
    policy?: Policy;
}

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() : v);

const rowSchema = z.object(
    {
        id: z.preprocess(
            emptyToUndefined,
            z.union([z.string(), z.number()], { error: 'expected a string' }).optional(),
        ),
        path: z.preprocess(emptyToUndefined, z.string({ error: 'expected a string' }).optional()),
        image: z.preprocess(emptyToUndefined, z.string({ error: 'expected a string' }).optional()),
        rating: z.preprocess(
            (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
            z.enum(['safe', 'unsafe'], { error: 'expected "Safe" or "Unsafe"' }),
        ),
        category: z.preprocess(
            emptyToUndefined,
            z.string({ error: 'expected a category string or id (a string)' }).optional(),
        ),
        score: z.preprocess(
            (v) => emptyToUndefined(trimmed(v)),
            z.enum(SCORES, { error: `expected one of ${SCORES.join(' | ')}` }).optional(),
        ),
        split: z.preprocess(emptyToUndefined, z.string({ error: 'expected a string' }).optional()),
    },
    { error: 'expected a JSON object' },
);

/** Parses manifest text. Throws EvalManifestError listing every problem with its line and field. */
export function parseManifest(text: string, options: ParseManifestOptions = {}): EvalSample[] {
    const source = options.source ?? 'manifest';
    const format = options.format ?? (/\.csv$/i.test(source) ? 'csv' : 'jsonl');
    const baseDir = options.baseDir ?? (options.source ? dirname(resolve(options.source)) : process.cwd());
    const policy = options.policy ?? Policy.default('v1.2');
    const issues: ManifestIssue[] = [];
    const rows = format === 'csv' ? csvRows(text, issues) : jsonlRows(text, issues);
    const samples: EvalSample[] = [];
    const seen = new Map<string, number>();
    const categoryStrings = policy.categoryStrings;
    const idOf = new Map(policy.categories.map((c) => [c.label, c.id]));

    for (const { line, value } of rows) {
        const parsed = rowSchema.safeParse(value);
        if (!parsed.success) {
            for (const issue of parsed.error.issues) {
                issues.push({
                    line,
                    field: issue.path.length ? issue.path.map(String).join('.') : null,
                    message: issue.message,
                });
            }
            continue;
        }
        const row = parsed.data;
        const path = row.path ?? row.image;
        if (path === undefined) {
            issues.push({ line, field: 'path', message: 'missing: expected the image path (key "path" or "image")' });
            continue;
        }
        const rating: Rating = row.rating === 'unsafe' ? 'Unsafe' : 'Safe';
        let category: string = NONE_APPLYING;
        if (row.category !== undefined) {
            const raw = row.category.trim();
            const found = labelCategory(raw, categoryStrings);
            if (found === null) {
                issues.push({
                    line,
                    field: 'category',
                    message: `unknown category "${raw}": expected one of ${categoryStrings.join(' | ')} or an id such as O3`,
                });
                continue;
            }
            category = found;
        }
        if (rating === 'Unsafe' && category === NONE_APPLYING) {
            issues.push({
                line,
                field: 'category',
                message: 'an Unsafe sample needs a category other than "NA: None applying"',
            });
            continue;
        }
        const id = row.id !== undefined ? String(row.id) : path;
        const first = seen.get(id);
        if (first !== undefined) {
            issues.push({
                line,
                field: row.id !== undefined ? 'id' : 'path',
                message: `duplicate sample id "${id}" (first on line ${first})`,
            });
            continue;
        }
        seen.set(id, line);
        samples.push(
            Object.freeze({
                id,
                path,
                image: isAbsolute(path) ? path : resolve(baseDir, path),
                rating,
                category,
                categoryId: category === NONE_APPLYING ? null : (idOf.get(category) ?? null),
                ...(row.score !== undefined ? { score: row.score } : {}),
                ...(row.split !== undefined ? { split: row.split } : {}),
                line,
            }),
        );
    }
    if (issues.length > 0)
        throw new EvalManifestError(
            source,
            [...issues].sort((a, b) => a.line - b.line),
        );
    return samples;
}

/** Reads and parses a manifest file; relative image paths resolve against its folder. */
export async function loadManifest(
    path: string,
    options: Omit<ParseManifestOptions, 'source'> = {},
): Promise<EvalSample[]> {
    const text = await readFile(path, 'utf8');
    return parseManifest(text, { ...options, source: path, baseDir: options.baseDir ?? dirname(resolve(path)) });
}

/** Keeps the samples of one split (all when split is undefined). */
export const selectSplit = (samples: readonly EvalSample[], split?: string): EvalSample[] =>
    split === undefined ? [...samples] : samples.filter((s) => s.split === split);

// Stricter than the normaliser for model answers: a label must be the whole category string
// (case and spacing aside), its id alone ("O3", "o3:"), or its name alone; "O2: Sexual Content"
// contradicts itself and is rejected rather than read as O2.
function labelCategory(raw: string, categoryStrings: readonly string[]): string | null {
    const squash = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
    const text = squash(raw);
    for (const c of categoryStrings) {
        const sep = c.indexOf(': ');
        const id = sep < 0 ? c : c.slice(0, sep);
        const name = sep < 0 ? c : c.slice(sep + 2);
        if (text === squash(c) || text === squash(id) || text === `${squash(id)}:` || text === squash(name)) return c;
    }
    return null;
}

interface Row {
    line: number;
    value: unknown;
}

function jsonlRows(text: string, issues: ManifestIssue[]): Row[] {
    const rows: Row[] = [];
    const lines = stripBom(text).split('\n');
    lines.forEach((raw, i) => {
        const line = raw.trim();
        if (!line) return;
        try {
            rows.push({ line: i + 1, value: JSON.parse(line) });
        } catch (err) {
            issues.push({ line: i + 1, field: null, message: `not a JSON line (${(err as Error).message})` });
        }
    });
    return rows;
}

// RFC 4180 CSV with a header row; header names are trimmed and lower-cased.
function csvRows(text: string, issues: ManifestIssue[]): Row[] {
    const records = parseCsv(stripBom(text));
    const header = records.shift();
    if (!header) {
        issues.push({ line: 1, field: null, message: 'empty CSV: expected a header row (path,rating,category,...)' });
        return [];
    }
    const names = header.fields.map((h) => h.trim().toLowerCase());
    if (!names.includes('path') && !names.includes('image')) {
        issues.push({ line: header.line, field: 'path', message: 'the CSV header has no "path" (or "image") column' });
        return [];
    }
    return records.map((r) => {
        if (r.fields.length > names.length) {
            issues.push({
                line: r.line,
                field: null,
                message: `${r.fields.length} fields but the header has ${names.length}`,
            });
        }
        const value: Record<string, string> = {};
        names.forEach((n, i) => {
            if (n && r.fields[i] !== undefined) value[n] = r.fields[i];
        });
        return { line: r.line, value };
    });
}
