// An image URL of a request to decoded pixels: `data:` URLs always, http(s) only when the server allows remote
// images (remote-image.ts), never `file:` or a path. The bytes must be one of the formats a photo comes in
// (sniffed, so that SVG and other formats that can reference outside resources never reach the decoder); the
// byte and pixel limits answer 413.
import { createHash } from 'node:crypto';
import { ImageDecodeError, loadImage, type RgbImage } from '../image/index.js';
import { badRequest, tooLarge } from './errors.js';
import { fetchRemoteImage, type HostResolver } from './remote-image.js';

export interface ImageLimits {
    /** Largest encoded image in bytes. */
    maxImageBytes: number;
    /** Largest image in pixels (width x height from its header; checked before decoding). */
    maxImagePixels: number;
    /** Fetch http(s) URLs (public addresses only). */
    allowRemoteImages: boolean;
    remoteTimeoutMs: number;
    resolveHost: HostResolver;
    /** Which addresses a remote image may come from (default: public unicast only). */
    refusedAddressReason?: (address: string) => string | null;
}

export interface RequestImage {
    pixels: { data: Uint8Array; width: number; height: number; channels: 3 };
    /** sha256 of the encoded bytes: identical images with the same policy are assessed once. */
    sha256: string;
    bytes: number;
}

const FORMATS = 'JPEG, PNG, WebP, GIF, TIFF or AVIF';

export async function requestImage(
    url: string,
    param: string,
    limits: ImageLimits,
    signal?: AbortSignal,
): Promise<RequestImage> {
    const bytes = await imageBytes(url, param, limits, signal);
    if (bytes.length > limits.maxImageBytes)
        throw tooLarge(`The image is ${bytes.length} bytes, over the limit of ${limits.maxImageBytes}`, param);
    if (!sniffFormat(bytes)) throw badRequest(`The image is not a ${FORMATS} file`, param, 'invalid_image');
    let rgb: RgbImage;
    try {
        rgb = await loadImage(bytes, { maxPixels: limits.maxImagePixels });
    } catch (error) {
        if (error instanceof ImageDecodeError) {
            if (error.code === 'TOO_LARGE') throw tooLarge(error.message, param);
            throw badRequest(error.message, param, 'invalid_image');
        }
        throw error;
    }
    return {
        pixels: { data: rgb.data, width: rgb.width, height: rgb.height, channels: 3 },
        sha256: createHash('sha256').update(bytes).digest('hex'),
        bytes: bytes.length,
    };
}

async function imageBytes(url: string, param: string, limits: ImageLimits, signal?: AbortSignal): Promise<Buffer> {
    if (/^data:/i.test(url)) return dataUrlBytes(url, param, limits.maxImageBytes);
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        throw badRequest('image_url.url must be a data: URL (or an http(s) URL where the server allows it)', param);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        throw badRequest(
            `Image URLs with ${parsed.protocol} are not accepted: send a data: URL`,
            param,
            'image_url_refused',
        );
    if (!limits.allowRemoteImages)
        throw badRequest(
            'Remote image URLs are off on this server (start it with --allow-remote-images): send a data: URL',
            param,
            'image_url_refused',
        );
    return fetchRemoteImage(parsed, param, {
        maxBytes: limits.maxImageBytes,
        timeoutMs: limits.remoteTimeoutMs,
        resolve: limits.resolveHost,
        refusedReason: limits.refusedAddressReason,
        signal,
    });
}

function dataUrlBytes(url: string, param: string, maxBytes: number): Buffer {
    const comma = url.indexOf(',');
    const header = comma < 0 ? '' : url.slice(5, comma);
    if (comma < 0 || !/;base64$/i.test(header))
        throw badRequest('A data: image URL must be base64 (data:image/png;base64,...)', param, 'invalid_image');
    const payload = url.slice(comma + 1);
    // Refuse from the length before decoding anything.
    if (Math.floor((payload.length * 3) / 4) > maxBytes + 3)
        throw tooLarge(`The image is over the limit of ${maxBytes} bytes`, param);
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(payload))
        throw badRequest('The data: URL is not valid base64', param, 'invalid_image');
    const bytes = Buffer.from(payload, 'base64');
    if (bytes.length === 0) throw badRequest('The data: URL holds no bytes', param, 'invalid_image');
    return bytes;
}

/** The format a file's first bytes announce, among those accepted; undefined for anything else. */
export function sniffFormat(b: Buffer): string | undefined {
    const ascii = (start: number, end: number) => b.subarray(start, end).toString('latin1');
    if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
    if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
        return 'png';
    if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
    if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
    if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
    if (ascii(4, 8) === 'ftyp' && /^(avif|avis)$/.test(ascii(8, 12))) return 'avif';
    return undefined;
}
