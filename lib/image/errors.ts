/**
 * Errors raised while turning user input into the packed RGB the model gets.
 *
 * Programmer errors in *options* (a negative `maxSide`, an unknown `alpha`
 * mode, an input of the wrong type) are thrown as plain `TypeError` /
 * `RangeError`. Everything that is wrong with the *image* itself is an
 * {@link ImageDecodeError} with a machine-readable {@link ImageDecodeError.code}.
 */

export type ImageDecodeErrorCode =
    /** 0-byte file or buffer, or an image whose header says 0 pixels. */
    | 'EMPTY'
    /** Not an image format this build can read (text, random bytes, HEIC, ...). */
    | 'UNSUPPORTED'
    /** Recognised format, but the data is damaged or cut short. */
    | 'CORRUPT'
    /** Header dimensions exceed `maxPixels`; nothing was decoded. */
    | 'TOO_LARGE'
    /** The path does not exist, or is not a regular file. */
    | 'NOT_FOUND'
    /** The path exists but cannot be read (permissions). */
    | 'UNREADABLE'
    /** `rgbFromRaw`: the raw pixel buffer does not match width × height × channels. */
    | 'INVALID_RAW';

export interface ImageDecodeErrorDetails {
    /** Width as stored in the image header, when known. */
    width?: number;
    /** Height as stored in the image header, when known. */
    height?: number;
    /** The pixel limit that was applied, for TOO_LARGE. */
    maxPixels?: number;
}

export class ImageDecodeError extends Error {
    override readonly name = 'ImageDecodeError';
    readonly code: ImageDecodeErrorCode;
    /** Human description of the input, e.g. `file "/a/b.png"` or `Buffer (1234 bytes)`. */
    readonly input: string;
    readonly details: ImageDecodeErrorDetails;

    constructor(
        code: ImageDecodeErrorCode,
        input: string,
        problem: string,
        options: { cause?: unknown; details?: ImageDecodeErrorDetails } = {},
    ) {
        super(
            `Cannot load image from ${input}: ${problem}`,
            options.cause === undefined ? undefined : { cause: options.cause },
        );
        this.code = code;
        this.input = input;
        this.details = options.details ?? {};
    }
}
