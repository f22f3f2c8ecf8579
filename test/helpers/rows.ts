/** The largest difference between two rows of floats, over b's largest magnitude; Infinity when the lengths differ. */
export function worstRelative(a: Float32Array, b: Float32Array): number {
    if (a.length !== b.length) return Number.POSITIVE_INFINITY;
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]!));
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    }
    return worst / scale;
}
