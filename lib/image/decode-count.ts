// How many images this process has decoded from encoded bytes or a sharp pipeline: a test counts them to show
// that a scan decodes each image once (pixels handed on are not decoded again), and when the decodes end, to show
// that a scan decodes the next pictures while the current one is assessed.
let decodes = 0;
let decoded = 0;

export function countDecode(): void {
    decodes++;
}

export function countDecoded(): void {
    decoded++;
}

/** Images decoded so far in this process (counted when their decode starts). */
export function decodeCount(): number {
    return decodes;
}

/** Decodes finished so far in this process. */
export function decodedCount(): number {
    return decoded;
}
