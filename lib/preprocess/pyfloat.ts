/**
 * The few Python float operations the transformers token-count logic uses,
 * with Python's exact semantics (both languages use IEEE doubles; only the
 * operators differ).
 */

/**
 * Python's `a // b` for floats (floatobject.c float_floor_div): floor of the
 * exact quotient, computed through fmod, which can differ from
 * `Math.floor(a / b)` when the rounded quotient lands on an integer.
 */
export function pyFloorDiv(a: number, b: number): number {
    if (b === 0) throw new RangeError('float floor division by zero');
    let mod = a % b; // C fmod: exact
    let div = (a - mod) / b;
    if (mod !== 0) {
        if (b < 0 !== mod < 0) {
            mod += b;
            div -= 1;
        }
    }
    let floordiv: number;
    if (div !== 0) {
        floordiv = Math.floor(div);
        if (div - floordiv > 0.5) floordiv += 1;
    } else {
        floordiv = 0 * (a / b); // signed zero, as CPython
    }
    return floordiv;
}

/**
 * Python's `round(x, ndigits)` for floats: the exact binary value rounded to
 * `ndigits` decimals, ties to even (CPython uses correctly rounded dtoa).
 * `toFixed` also rounds the exact value but breaks ties upward, so ties are
 * detected with the exact decimal expansion and resolved to even.
 */
export function pyRound(x: number, ndigits: number): number {
    if (!Number.isFinite(x)) return x;
    if (Math.abs(x) >= 1e21) return x;
    const fixed = x.toFixed(ndigits);
    // Exact decimal expansion of x (a double has at most 1074 fractional digits;
    // toFixed accepts up to 100, enough to see whether the remainder is exactly ½ ulp
    // of the 10^-ndigits grid for the magnitudes met here).
    const exact = x.toFixed(Math.min(100, ndigits + 60));
    const tail = exact.slice(exact.indexOf('.') + 1 + ndigits);
    if (/^50*$/.test(tail)) {
        // a tie: toFixed rounded away from zero; step back if that digit became odd
        const lastDigit = Number(fixed[fixed.length - 1]);
        if (lastDigit % 2 === 1) {
            const step = 10 ** -ndigits;
            const back = x >= 0 ? Number(fixed) - step : Number(fixed) + step;
            return Number(back.toFixed(ndigits));
        }
    }
    return Number(fixed);
}
