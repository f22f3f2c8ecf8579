// An immutable LlavaGuard policy: every builder call returns a new Policy, so a policy can be
// shared between concurrent requests and named by its hash.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { categoryLabel, renderPolicy, type CategoryStatus, type RenderableCategory } from './render.js';
import { POLICY_JSON_FORMAT, parsePolicyJSON, type PolicyJSON } from './schema.js';
import {
    DEFAULT_CATEGORIES,
    NONE_APPLYING,
    POLICY_VERSIONS,
    TRAINED_EXCEPTION_BULLETS,
    type CategoryDefinition,
    type CategoryGuidelines,
    type PolicyVersion,
} from './taxonomy.js';

export type { CategoryStatus } from './render.js';

export interface PolicyCategory {
    readonly id: string;
    readonly name: string;
    /** "O3: Sexual Content": the string the model answers in "category". */
    readonly label: string;
    readonly status: CategoryStatus;
    readonly shouldNot: readonly string[];
    readonly can: readonly string[];
    /** One of the nine LlavaGuard categories (as opposed to one added with addCategory). */
    readonly builtin: boolean;
}

export interface NewCategory extends CategoryDefinition {
    readonly status?: CategoryStatus;
}

interface Entry {
    readonly id: string;
    readonly name: string;
    readonly status: CategoryStatus;
    readonly shouldNot: readonly string[];
    readonly can: readonly string[];
}

const BUILTIN_IDS = new Set(DEFAULT_CATEGORIES.map((c) => c.id));

export class Policy {
    readonly version: PolicyVersion;
    readonly #entries: readonly Entry[];
    #rendered?: string;

    private constructor(version: PolicyVersion, entries: readonly Entry[]) {
        this.version = version;
        this.#entries = Object.freeze(
            entries.map((e) => Object.freeze({ ...e, shouldNot: freeze(e.shouldNot), can: freeze(e.can) })),
        );
        Object.freeze(this);
    }

    /** The LlavaGuard default policy. v1.2 is the json-v24 text, v1.0 the json-v16 text. */
    static default(version: PolicyVersion = 'v1.2'): Policy {
        if (!POLICY_VERSIONS.includes(version)) {
            throw new RangeError(`unknown policy version "${version}": expected one of ${POLICY_VERSIONS.join('|')}`);
        }
        return new Policy(
            version,
            DEFAULT_CATEGORIES.map((c) => ({ ...c, status: 'default' as const })),
        );
    }

    /** Declares categories non-violating. Overrides an earlier sensitive() on them: the last call wins. */
    allow(...ids: string[]): Policy {
        return this.setStatus(ids, 'allowed');
    }

    /** Declares categories sensitive (strictly disallowed). Overrides an earlier allow(): the last call wins. */
    sensitive(...ids: string[]): Policy {
        return this.setStatus(ids, 'sensitive');
    }

    /** Back to the normal "Should not / Can" block. */
    reset(...ids: string[]): Policy {
        return this.setStatus(ids, 'default');
    }

    /** Replaces a category's "Should not" and "Can" bullets. */
    setGuidelines(id: string, guidelines: CategoryGuidelines): Policy {
        this.indexOf(id);
        return this.map(id, (e) => ({ ...e, shouldNot: guidelines?.shouldNot, can: guidelines?.can }));
    }

    /** Renames a category (changes its label and so the strings the model may answer). */
    rename(id: string, name: string): Policy {
        this.indexOf(id);
        return this.rebuild(this.#entries.map((e) => (e.id === id ? { ...e, name } : e)));
    }

    /** Appends a user category after the existing ones (before "NA: None applying"). */
    addCategory(category: NewCategory): Policy {
        if (this.#entries.some((e) => e.id === category.id)) {
            throw new Error(`category "${category.id}" already exists in this policy`);
        }
        const { id, name, shouldNot, can, status = 'default' } = category;
        return this.rebuild([...this.#entries, { id, name, status, shouldNot, can }]);
    }

    /** Drops a category from the prompt, the category list and the grammar. */
    remove(...ids: string[]): Policy {
        for (const id of ids) this.indexOf(id);
        return this.rebuild(this.#entries.filter((e) => !ids.includes(e.id)));
    }

    get categories(): readonly PolicyCategory[] {
        return this.#entries.map((e) => ({
            id: e.id,
            name: e.name,
            label: categoryLabel(e),
            status: e.status,
            shouldNot: e.shouldNot,
            can: e.can,
            builtin: BUILTIN_IDS.has(e.id),
        }));
    }

    /** The strings the model may answer in "category": the policy's labels plus "NA: None applying". */
    get categoryStrings(): readonly string[] {
        return Object.freeze([...this.#entries.map(categoryLabel), NONE_APPLYING]);
    }

    /**
     * The categories an image can violate under this policy: those not allowed (default and sensitive), the
     * only ones an Unsafe verdict may name. Never "NA: None applying".
     */
    get violatingCategoryStrings(): readonly string[] {
        return Object.freeze(this.#entries.filter((e) => e.status !== 'allowed').map(categoryLabel));
    }

    /** The prompt text exactly as the model saw it in training (after "<image>\n"). */
    render(): string {
        this.#rendered ??= renderPolicy(this.version, this.#entries.map(withTrainedBullets), this.categoryStrings);
        return this.#rendered;
    }

    toString(): string {
        return this.render();
    }

    /** Short, stable id of the prompt: sha256 over version and rendered text, first 16 hex digits. */
    get hash(): string {
        return createHash('sha256')
            .update(`llavaguard-policy\0${this.version}\0${this.render()}`)
            .digest('hex')
            .slice(0, 16);
    }

    toJSON(): PolicyJSON {
        return {
            format: POLICY_JSON_FORMAT,
            version: this.version,
            categories: this.#entries.map((e) => ({
                id: e.id,
                name: e.name,
                status: e.status,
                shouldNot: [...e.shouldNot],
                can: [...e.can],
            })),
        };
    }

    /** Validates and builds; throws PolicyValidationError naming the offending key. */
    static fromJSON(json: unknown, source?: string): Policy {
        const parsed = parsePolicyJSON(json, source);
        return new Policy(parsed.version as PolicyVersion, parsed.categories);
    }

    static async load(path: string): Promise<Policy> {
        const raw = await readFile(path, 'utf8');
        let json: unknown;
        try {
            json = JSON.parse(raw);
        } catch (err) {
            throw new Error(`policy file ${path} is not valid JSON: ${(err as Error).message}`);
        }
        return Policy.fromJSON(json, path);
    }

    async save(path: string): Promise<void> {
        await writeFile(path, `${JSON.stringify(this.toJSON(), null, 2)}\n`, 'utf8');
    }

    private setStatus(ids: string[], status: CategoryStatus): Policy {
        for (const id of ids) this.indexOf(id);
        return this.rebuild(this.#entries.map((e) => (ids.includes(e.id) ? { ...e, status } : e)));
    }

    private map(id: string, fn: (e: Entry) => Entry): Policy {
        return this.rebuild(this.#entries.map((e) => (e.id === id ? fn(e) : e)));
    }

    // Every change goes through the same validation as JSON input, so a builder can never
    // produce a policy that would fail to load (entries may hold unchecked user input here).
    private rebuild(entries: unknown[]): Policy {
        const parsed = parsePolicyJSON({ version: this.version, categories: entries });
        return new Policy(this.version, parsed.categories);
    }

    private indexOf(id: string): number {
        const i = this.#entries.findIndex((e) => e.id === id);
        if (i < 0) {
            throw new RangeError(
                `unknown category "${id}": this policy has ${this.#entries.map((e) => e.id).join(', ')}`,
            );
        }
        return i;
    }
}

// The reference's hand-written exception blocks differ from the bullets for O2 (a double space);
// keep the trained text while the category still has its default name and guidelines.
function withTrainedBullets(e: Entry): RenderableCategory {
    const trained = TRAINED_EXCEPTION_BULLETS[e.id];
    const def = DEFAULT_CATEGORIES.find((c) => c.id === e.id);
    const untouched =
        def !== undefined && def.name === e.name && sameList(def.shouldNot, e.shouldNot) && sameList(def.can, e.can);
    return trained && untouched ? { ...e, exceptionBullets: trained } : e;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

const freeze = (list: readonly string[]): readonly string[] => Object.freeze([...list]);
