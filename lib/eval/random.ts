// Small deterministic PRNG helpers for augmentation and the bootstrap: the same seed gives the
// same variants and intervals on every machine and Node version (no Math.random).

/** mulberry32: a 32-bit state PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** FNV-1a over the UTF-16 code units of the parts (joined by NUL), mixed with the seed. */
export function hashSeed(seed: number, ...parts: string[]): number {
    let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
    const text = parts.join('\0');
    for (let i = 0; i < text.length; i++) {
        h ^= text.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    // final avalanche (murmur3 fmix32) so nearby seeds diverge
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
    return h >>> 0;
}

/** An integer in [min, max] (inclusive). */
export const randomInt = (rand: () => number, min: number, max: number): number =>
    min + Math.floor(rand() * (max - min + 1));

/** k distinct items chosen uniformly (partial Fisher-Yates), in the order drawn. */
export function sample<T>(rand: () => number, items: readonly T[], k: number): T[] {
    const pool = [...items];
    const n = Math.min(k, pool.length);
    for (let i = 0; i < n; i++) {
        const j = i + Math.floor(rand() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, n);
}
