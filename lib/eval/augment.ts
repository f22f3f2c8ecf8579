// Policy-exception augmentation as in the LlavaGuard paper (arXiv 2406.05113): the same image is
// assessed again under a policy that declares categories non-violating or sensitive, and the
// expected label follows the exception.
//
//   v2: an Unsafe sample of category Ox, with Ox declared non-violating   -> expected Safe
//   v3: any sample, 1-3 OTHER categories declared non-violating           -> label unchanged
//   v4: a Safe sample with a category Ox (not NA), Ox declared sensitive  -> expected Unsafe
//   v5: any sample, 1-3 OTHER categories declared sensitive               -> label unchanged
//
// Random choices (v3/v5) come from mulberry32 seeded by hash(seed, sample id, kind), so a sample's
// variants do not depend on the order or the number of other samples in the set.
import { Policy } from '../policy/index.js';
import type { Rating } from '../verdict/index.js';
import type { EvalSample } from './manifest.js';
import { hashSeed, mulberry32, randomInt, sample as pick } from './random.js';

export type SampleKind = 'original' | 'v2' | 'v3' | 'v4' | 'v5';
export type ExceptionKind = Exclude<SampleKind, 'original'>;

export const SAMPLE_KINDS: readonly SampleKind[] = Object.freeze(['original', 'v2', 'v3', 'v4', 'v5']);

export interface AugmentOptions {
    /** 'none': the originals only; 'paper': originals plus the exception variants. Default 'paper'. */
    mode?: 'none' | 'paper';
    /** Seed for the v3/v5 choices. Default 0. */
    seed?: number;
    /** The policy the labels refer to. Default Policy.default('v1.2'). */
    basePolicy?: Policy;
    /** Which variants 'paper' adds. Default ['v2', 'v4'] (the label-flipping ones PER is measured on). */
    kinds?: readonly ExceptionKind[];
}

export interface AugmentedSample<S extends EvalSample = EvalSample> {
    /** `${sample.id}` for the original, `${sample.id}#v2` etc. for a variant. */
    readonly id: string;
    /** The labelled sample the variant is made from (the original's own for the original). */
    readonly sample: S;
    /** 'original', or which exception variant. */
    readonly kind: SampleKind;
    /** The policy to assess this variant with. Equal exceptions share one Policy object. */
    readonly policy: Policy;
    readonly expected: Rating;
    /** The sample's true category (an exception changes the label, not what the image shows). */
    readonly expectedCategory: string;
    /** Category ids this variant declared non-violating (on top of the base policy). */
    readonly allowed: ReadonlyArray<string>;
    /** Category ids this variant declared sensitive (on top of the base policy). */
    readonly sensitive: ReadonlyArray<string>;
}

/** The originals, each followed by its variants (in the order v2, v3, v4, v5). */
export function augment<S extends EvalSample>(
    samples: readonly S[],
    options: AugmentOptions = {},
): AugmentedSample<S>[] {
    const mode = options.mode ?? 'paper';
    if (mode !== 'none' && mode !== 'paper')
        throw new RangeError(`unknown augmentation mode "${String(mode)}": expected none|paper`);
    const seed = options.seed ?? 0;
    const base = options.basePolicy ?? Policy.default('v1.2');
    const kinds = new Set<ExceptionKind>(options.kinds ?? ['v2', 'v4']);
    for (const k of kinds) {
        if (!['v2', 'v3', 'v4', 'v5'].includes(k))
            throw new RangeError(`unknown variant kind "${k}": expected v2|v3|v4|v5`);
    }
    const ids = base.categories.map((c) => c.id);
    const cache = new Map<string, Policy>();
    const policyWith = (allowed: readonly string[], sensitive: readonly string[]): Policy => {
        const key = `${[...allowed].sort().join(',')}|${[...sensitive].sort().join(',')}`;
        let p = cache.get(key);
        if (!p) {
            p = base;
            if (allowed.length) p = p.allow(...allowed);
            if (sensitive.length) p = p.sensitive(...sensitive);
            cache.set(key, p);
        }
        return p;
    };

    const out: AugmentedSample<S>[] = [];
    for (const s of samples) {
        const variant = (
            kind: SampleKind,
            expected: Rating,
            allowed: readonly string[],
            sensitive: readonly string[],
        ) =>
            out.push(
                Object.freeze({
                    id: kind === 'original' ? s.id : `${s.id}#${kind}`,
                    sample: s,
                    kind,
                    policy: policyWith(allowed, sensitive),
                    expected,
                    expectedCategory: s.category,
                    allowed: Object.freeze([...allowed]),
                    sensitive: Object.freeze([...sensitive]),
                }),
            );
        variant('original', s.rating, [], []);
        if (mode === 'none') continue;
        const own = s.categoryId;
        if (own !== null && !ids.includes(own)) {
            throw new RangeError(`sample "${s.id}": category ${own} is not in the base policy (${ids.join(', ')})`);
        }
        const others = ids.filter((id) => id !== own);
        const choose = (kind: ExceptionKind) => {
            const rand = mulberry32(hashSeed(seed, s.id, kind));
            return pick(rand, others, randomInt(rand, 1, Math.min(3, others.length)));
        };
        if (kinds.has('v2') && s.rating === 'Unsafe' && own !== null) variant('v2', 'Safe', [own], []);
        if (kinds.has('v3') && others.length > 0) variant('v3', s.rating, choose('v3'), []);
        if (kinds.has('v4') && s.rating === 'Safe' && own !== null) variant('v4', 'Unsafe', [], [own]);
        if (kinds.has('v5') && others.length > 0) variant('v5', s.rating, [], choose('v5'));
    }
    return out;
}
