// JSON form of a policy, validated with zod. Errors name the offending key as a path
// (policy.categories[2].status) and say what was expected, so a hand-edited file is easy to fix.
import { z } from 'zod';
import { NONE_APPLYING_ID, POLICY_VERSIONS } from './taxonomy.js';

export const POLICY_JSON_FORMAT = 'llavaguard-policy';

const STATUSES = ['default', 'allowed', 'sensitive'] as const;
// Ids appear in "Category <id> is declared ..." and are what a model may answer alone, so keep
// them to one token without ':' or spaces.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// Control characters (newlines above all) would break the line layout the models were trained on.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;

const text = (what: string) =>
    z
        .string({ error: `expected ${what} (a string)` })
        .refine((s) => !CONTROL.test(s), { message: `expected ${what} without newlines or control characters` });

const bullets = z.array(
    text('a bullet').refine((s) => s.trim() !== '', { message: 'expected a non-empty bullet' }),
    {
        error: 'expected an array of strings',
    },
);

const categoryStatusSchema = z.enum(STATUSES, { error: `expected one of ${STATUSES.join('|')}` });

const categorySchema = z.strictObject(
    {
        id: z
            .string({ error: 'expected a category id (a string such as "O1")' })
            .regex(ID_PATTERN, { message: 'expected an id of letters, digits, "_", "." or "-" (such as "O10")' })
            .refine((id) => id !== NONE_APPLYING_ID, {
                message: `"${NONE_APPLYING_ID}" is reserved for "None applying"`,
            }),
        name: text('a category name').refine((s) => s.trim() !== '' && s === s.trim(), {
            message: 'expected a non-empty name without leading or trailing spaces',
        }),
        status: categoryStatusSchema.default('default'),
        shouldNot: bullets,
        can: bullets,
    },
    { error: 'expected a category object { id, name, status?, shouldNot, can }' },
);

export const policySchema = z
    .strictObject(
        {
            format: z.literal(POLICY_JSON_FORMAT, { error: `expected "${POLICY_JSON_FORMAT}"` }).optional(),
            version: z.enum(POLICY_VERSIONS as [string, ...string[]], {
                error: `expected one of ${POLICY_VERSIONS.join('|')}`,
            }),
            categories: z
                .array(categorySchema, { error: 'expected an array of categories' })
                .min(1, { message: 'expected at least one category' }),
        },
        { error: 'expected a policy object { version, categories }' },
    )
    .superRefine((p, ctx) => {
        const seen = new Set<string>();
        p.categories.forEach((c, i) => {
            if (seen.has(c.id)) {
                ctx.addIssue({
                    code: 'custom',
                    path: ['categories', i, 'id'],
                    message: `duplicate category id "${c.id}"`,
                });
            }
            seen.add(c.id);
        });
    });

export type PolicyJSON = z.input<typeof policySchema>;
export type ParsedPolicyJSON = z.output<typeof policySchema>;

export interface PolicyIssue {
    readonly path: string;
    readonly message: string;
}

export class PolicyValidationError extends Error {
    readonly issues: readonly PolicyIssue[];
    constructor(issues: readonly PolicyIssue[], source?: string) {
        const where = source ? ` in ${source}` : '';
        super(`invalid policy${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
        this.name = 'PolicyValidationError';
        this.issues = issues;
    }
}

export function parsePolicyJSON(input: unknown, source?: string): ParsedPolicyJSON {
    const result = policySchema.safeParse(input);
    if (result.success) return result.data;
    throw new PolicyValidationError(
        result.error.issues.flatMap((issue) => describeIssue(issue, input)),
        source,
    );
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): PolicyIssue[] {
    const path = issue.path as (string | number)[];
    if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: 'unknown key' }));
    }
    const got = valueAt(input, path);
    const suffix = got.found ? `, got ${describeValue(got.value)}` : ', got nothing';
    return [{ path: formatPath(path), message: issue.message + suffix }];
}

function formatPath(path: readonly PropertyKey[]): string {
    let out = 'policy';
    for (const key of path) {
        if (typeof key === 'number') out += `[${key}]`;
        else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
        else out += `[${JSON.stringify(String(key))}]`;
    }
    return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
    let cur: unknown = root;
    for (const key of path) {
        if (cur === null || typeof cur !== 'object' || !(key in (cur as object))) return { found: false };
        cur = (cur as Record<PropertyKey, unknown>)[key];
    }
    return { found: true, value: cur };
}

function describeValue(v: unknown): string {
    if (Array.isArray(v)) return `an array of ${v.length}`;
    if (v === null) return 'null';
    if (typeof v === 'object') return 'an object';
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
