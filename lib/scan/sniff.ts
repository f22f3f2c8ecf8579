// Recognises image files by their first bytes, so a folder scan finds a JPEG named `.txt`
// and skips a text file named `.jpg`.

/** Bytes {@link sniffImageFormat} needs to see. */
export const SNIFF_BYTES = 32;

/** ISO-BMFF brands of AVIF and HEIF stills/sequences. */
const FTYP_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

const ascii = (b: Uint8Array, start: number, end: number) => String.fromCharCode(...b.subarray(start, end));

/** The image format the header announces ('jpeg', 'png', 'gif', 'webp', 'tiff', 'bmp', 'heif'), or null. */
export function sniffImageFormat(head: Uint8Array): string | null {
    if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
    if (head.length >= 8 && ascii(head, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
    if (head.length >= 6 && /^GIF8[79]a$/.test(ascii(head, 0, 6))) return 'gif';
    if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return 'webp';
    if (head.length >= 4 && (ascii(head, 0, 4) === 'II*\0' || ascii(head, 0, 4) === 'MM\0*')) return 'tiff';
    // "BM" alone is common in text; the four reserved header bytes must also be zero
    if (
        head.length >= 14 &&
        head[0] === 0x42 &&
        head[1] === 0x4d &&
        head[6] === 0 &&
        head[7] === 0 &&
        head[8] === 0 &&
        head[9] === 0
    )
        return 'bmp';
    if (head.length >= 12 && ascii(head, 4, 8) === 'ftyp' && FTYP_BRANDS.has(ascii(head, 8, 12))) return 'heif';
    return null;
}

/** Extensions that mark a file as meant to be an image when its content cannot be read. */
export const IMAGE_EXTENSIONS = new Set([
    '.jpg',
    '.jpeg',
    '.jpe',
    '.png',
    '.gif',
    '.webp',
    '.tif',
    '.tiff',
    '.bmp',
    '.avif',
    '.heic',
    '.heif',
]);
