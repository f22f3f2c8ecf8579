// How many images this process has decoded from encoded bytes or a sharp pipeline: a test counts them to show
// that a scan decodes each image once (pixels handed on are not decoded again).
let decodes = 0;

export function countDecode(): void {
    decodes++;
}

/** Images decoded so far in this process. */
export function decodeCount(): number {
    return decodes;
}
