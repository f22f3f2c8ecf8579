// Deterministic random weights: splitmix32-seeded sfc32, one independent stream per (seed, tensor name).
// Only integer arithmetic and one multiply per value, so the output is identical everywhere.

function fnv1a(s: string): number {
    let h = 0x811c9dc5;
    for (const b of Buffer.from(s, 'utf8')) {
        h ^= b;
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
}

function splitmix32(state: number): () => number {
    let s = state >>> 0;
    return () => {
        s = (s + 0x9e3779b9) >>> 0;
        let z = s;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        return (z ^ (z >>> 16)) >>> 0;
    };
}

export function makeRng(seed: number, stream: string): () => number {
    const sm = splitmix32((Math.imul(seed >>> 0, 0x9e3779b1) ^ fnv1a(stream)) >>> 0);
    let a = sm();
    let b = sm();
    let c = sm();
    let d = sm();
    const next = (): number => {
        const t = (((a + b) >>> 0) + d) >>> 0;
        d = (d + 1) >>> 0;
        a = (b ^ (b >>> 9)) >>> 0;
        b = (c + (c << 3)) >>> 0;
        c = ((c << 21) | (c >>> 11)) >>> 0;
        c = (c + t) >>> 0;
        return t;
    };
    for (let i = 0; i < 12; i++) next();
    return next;
}

/** Fills `out` with the stream's next values, uniform in mean ± std·√3 (standard deviation std); std 0: all mean. */
export function fillUniform(rng: () => number, out: Float32Array, std: number, mean: number): Float32Array {
    if (std === 0) return out.fill(mean);
    const a = std * Math.sqrt(3);
    for (let i = 0; i < out.length; i++) out[i] = mean + a * ((rng() / 4294967296) * 2 - 1);
    return out;
}
