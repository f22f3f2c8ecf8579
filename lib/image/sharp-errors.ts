// sharp / libvips errors as ImageDecodeError, with a code and a one-line reason that names the input.
import { ImageDecodeError } from './errors.js';

/** Output of the decoder that breaks what the conversion guarantees (a bug or an odd build, not a bad image). */
export class InvariantError extends Error {}

export function fromSharpError(err: unknown, label: string): ImageDecodeError {
    if (err instanceof ImageDecodeError) return err;
    const message = err instanceof Error ? err.message : String(err);
    const said = ` (decoder said: ${tidy(message)})`;
    if (err instanceof InvariantError) {
        return new ImageDecodeError('UNSUPPORTED', label, `unexpected decoder output: ${message}`, { cause: err });
    }
    if (/input (?:buffer|file) is empty/i.test(message)) {
        return new ImageDecodeError('EMPTY', label, 'the data is empty (0 bytes)', { cause: err });
    }
    if (/input file is missing/i.test(message)) {
        return new ImageDecodeError('NOT_FOUND', label, 'no such file', { cause: err });
    }
    if (/permission denied/i.test(message)) {
        return new ImageDecodeError('UNREADABLE', label, `permission denied${said}`, { cause: err });
    }
    if (
        /unsupported image format|not been built in|is not a known|no known (?:loader|decoder)|not supported/i.test(
            message,
        )
    ) {
        return new ImageDecodeError(
            'UNSUPPORTED',
            label,
            `not an image in a format this build can read (JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG)${said}`,
            { cause: err },
        );
    }
    if (/exceeds pixel limit/i.test(message)) {
        return new ImageDecodeError(
            'TOO_LARGE',
            label,
            `the image header exceeds the decoder's pixel limit (sharp's limitInputPixels; for a sharp instance, the one it was created with); it was not decoded${said}`,
            { cause: err },
        );
    }
    if (/premature end|truncat|end of (?:file|stream|data)|unexpected end/i.test(message)) {
        return new ImageDecodeError('CORRUPT', label, `the image data is truncated${said}`, { cause: err });
    }
    return new ImageDecodeError('CORRUPT', label, `the image data is corrupt or cannot be decoded${said}`, {
        cause: err,
    });
}

/** libvips messages can repeat lines and end in ':'; make them one short line. */
function tidy(message: string): string {
    const lines = [
        ...new Set(
            message
                .split('\n')
                .map((l) => l.trim().replace(/:$/, ''))
                .filter(Boolean),
        ),
    ];
    const text = lines.join('; ');
    return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
