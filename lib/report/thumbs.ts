// Thumbnails for the report's gallery: small JPEGs, one per image content, made with sharp.
import { createHash } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import sharp from 'sharp';

export interface Thumbnail {
    width: number;
    height: number;
    /** The file was already there (a previous report of the same content) and was kept. */
    reused: boolean;
    /** The source could not be read, but a thumbnail of its content was already there. */
    sourceMissing?: boolean;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The thumbnail's file name: the image's sha256 when the record has one, else a hash of its location. */
export function thumbnailName(sha256: string | undefined, source: string): string {
    const id =
        sha256 && SHA256_HEX.test(sha256) ? sha256 : createHash('sha256').update(`path\0${source}`).digest('hex');
    return `${id}.jpg`;
}

/**
 * Writes a JPEG of `source` that fits in size x size (never enlarged, EXIF orientation applied,
 * transparency on white) to `dest`, via a temporary file and rename. With `reuse`, an existing
 * `dest` of the right size is kept (and one of any size when the source can no longer be read).
 */
export async function makeThumbnail(source: string, dest: string, size: number, reuse = true): Promise<Thumbnail> {
    const existing = reuse
        ? await sharp(dest)
              .metadata()
              .catch(() => undefined)
        : undefined;
    const have =
        existing?.format === 'jpeg' && existing.width && existing.height
            ? { width: existing.width, height: existing.height }
            : undefined;
    if (have) {
        // the longer side of a 'fit: inside' thumbnail is min(size, the source's longer side)
        const m = await sharp(source)
            .metadata()
            .catch(() => undefined);
        if (!m?.width || !m.height) return { ...have, reused: true, sourceMissing: true };
        if (Math.max(have.width, have.height) === Math.min(size, Math.max(m.width, m.pageHeight ?? m.height)))
            return { ...have, reused: true };
    }
    const tmp = `${dest}.${process.pid}.tmp`;
    try {
        const info = await sharp(source, { failOn: 'error' })
            .rotate()
            .resize(size, size, { fit: 'inside', withoutEnlargement: true })
            .flatten({ background: '#ffffff' })
            .jpeg({ quality: 80, mozjpeg: true })
            .toFile(tmp);
        await rename(tmp, dest);
        return { width: info.width, height: info.height, reused: false };
    } catch (error) {
        await rm(tmp, { force: true });
        throw error;
    }
}
