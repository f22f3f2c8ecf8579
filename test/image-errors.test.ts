import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import t, { type Test } from 'tap';

import { ImageDecodeError, loadImage, type ImageDecodeErrorCode } from '../lib/image/index.js';
import { noisyJpeg, pngHeaderOnly, randomBytes, solidPng } from './fixtures/images/make.js';

/** Resolves to the ImageDecodeError `p` rejects with (fails the test otherwise). */
async function decodeError(t: Test, p: Promise<unknown>, code: ImageDecodeErrorCode): Promise<ImageDecodeError> {
    try {
        const got = await p;
        t.fail(`expected ImageDecodeError ${code}, but it resolved: ${JSON.stringify(Object.keys(got as object))}`);
    } catch (err) {
        t.type(err, ImageDecodeError, 'is an ImageDecodeError');
        t.type(err, Error, 'is an Error');
        const e = err as ImageDecodeError;
        t.equal(e.name, 'ImageDecodeError');
        t.equal(e.code, code, `code ${code} (message: ${e.message})`);
        return e;
    }
    return new ImageDecodeError(code, '', 'unreachable');
}

t.test('a truncated JPEG (cut in half) is CORRUPT, not silently half-grey', async (t) => {
    const jpeg = await noisyJpeg();
    const half = jpeg.subarray(0, jpeg.length >> 1);
    const e = await decodeError(t, loadImage(half), 'CORRUPT');
    t.match(e.message, `Buffer (${half.length} bytes)`, 'says which input');
    t.match(e.message, /truncated/i, 'says what was wrong');
    t.ok(e.cause instanceof Error, 'keeps the decoder error as cause');
});

t.test('a truncated JPEG file: the message names the path', async (t) => {
    const dir = t.testdir();
    const file = join(dir, 'cut.jpg');
    const jpeg = await noisyJpeg();
    await writeFile(file, jpeg.subarray(0, jpeg.length >> 1));
    const e = await decodeError(t, loadImage(file), 'CORRUPT');
    t.match(e.message, file);
});

t.test("failOn: 'none' is the explicit opt-in to partially decoded images", async (t) => {
    const jpeg = await noisyJpeg();
    const img = await loadImage(jpeg.subarray(0, jpeg.length >> 1), { failOn: 'none' });
    t.equal(img.width, 64);
    t.equal(img.height, 48);
});

t.test('a truncated PNG is CORRUPT', async (t) => {
    const png = await sharp({
        create: {
            width: 40,
            height: 30,
            channels: 3,
            background: '#000',
            noise: { type: 'gaussian', mean: 128, sigma: 50 },
        },
    })
        .png()
        .toBuffer();
    await decodeError(t, loadImage(png.subarray(0, png.length >> 1)), 'CORRUPT');
});

t.test('a PNG with a damaged header is CORRUPT', async (t) => {
    const png = Buffer.from(await solidPng(20, 20));
    png[20] ^= 0xff; // inside IHDR: CRC no longer matches
    await decodeError(t, loadImage(png), 'CORRUPT');
});

t.test('zero bytes is EMPTY for a Buffer, a Uint8Array, an ArrayBuffer and a file', async (t) => {
    const dir = t.testdir({ 'empty.png': '' });
    await decodeError(t, loadImage(Buffer.alloc(0)), 'EMPTY');
    await decodeError(t, loadImage(new Uint8Array(0)), 'EMPTY');
    await decodeError(t, loadImage(new ArrayBuffer(0)), 'EMPTY');
    const e = await decodeError(t, loadImage(join(dir, 'empty.png')), 'EMPTY');
    t.match(e.message, 'empty.png');
    t.match(e.message, /0 bytes/);
});

t.test('a header claiming 0x0 pixels never yields an image', async (t) => {
    // PNG forbids 0 width/height: the header itself is invalid.
    await decodeError(t, loadImage(pngHeaderOnly(0, 0)), 'CORRUPT');
    await decodeError(t, loadImage(pngHeaderOnly(0, 10)), 'CORRUPT');
});

t.test('random bytes are UNSUPPORTED', async (t) => {
    const e = await decodeError(t, loadImage(randomBytes(4096)), 'UNSUPPORTED');
    t.match(e.message, 'Buffer (4096 bytes)');
    t.match(e.message, /format/);
});

t.test('a text file is UNSUPPORTED and the message names the file', async (t) => {
    const dir = t.testdir({ 'notes.txt': 'These are not the pixels you are looking for.\n' });
    const file = join(dir, 'notes.txt');
    const e = await decodeError(t, loadImage(file), 'UNSUPPORTED');
    t.match(e.message, file);
});

t.test(
    'a 20000x20000 PNG (header only) is TOO_LARGE before decoding, and the error states size and limit',
    async (t) => {
        const bomb = pngHeaderOnly(20000, 20000); // tiny file; only IHDR says 20000x20000
        t.ok(bomb.length < 200, `fixture is ${bomb.length} bytes`);
        const e = await decodeError(t, loadImage(bomb), 'TOO_LARGE');
        t.match(e.message, '20000x20000');
        t.match(e.message, '400,000,000 pixels');
        t.match(e.message, '100,000,000');
        t.same(e.details, { width: 20000, height: 20000, maxPixels: 100_000_000 });
        // Had pixels been decoded, the missing IDAT data would have made it CORRUPT.
    },
);

t.test('the same bomb as a file and as a sharp instance is TOO_LARGE too', async (t) => {
    const dir = t.testdir();
    const file = join(dir, 'bomb.png');
    await writeFile(file, pngHeaderOnly(20000, 20000));
    const e = await decodeError(t, loadImage(file), 'TOO_LARGE');
    t.match(e.message, file);
    await decodeError(t, loadImage(sharp(pngHeaderOnly(20000, 20000))), 'TOO_LARGE');
});

t.test('maxPixels is configurable: one pixel over the limit is TOO_LARGE', async (t) => {
    const png = await solidPng(100, 100);
    const e = await decodeError(t, loadImage(png, { maxPixels: 9_999 }), 'TOO_LARGE');
    t.match(e.message, '100x100');
    t.match(e.message, '9,999');
    const ok = await loadImage(png, { maxPixels: 10_000 });
    t.equal(ok.width, 100);
});

t.test('for animations the limit applies to one frame (only one is decoded)', async (t) => {
    const gif = await sharp(Buffer.alloc(10 * 20 * 3, 255), {
        raw: { width: 10, height: 20, channels: 3, pageHeight: 10 },
    })
        .gif()
        .toBuffer();
    const img = await loadImage(gif, { maxPixels: 100 });
    t.equal(img.height, 10);
    await decodeError(t, loadImage(gif, { maxPixels: 99 }), 'TOO_LARGE');
});

t.test('a missing path is NOT_FOUND with the path in the message', async (t) => {
    const dir = t.testdir();
    const missing = join(dir, 'no', 'such', 'image.png');
    const e = await decodeError(t, loadImage(missing), 'NOT_FOUND');
    t.match(e.message, missing);
});

t.test('a directory, an empty string and a URL are NOT_FOUND with a useful message', async (t) => {
    const dir = t.testdir();
    t.match((await decodeError(t, loadImage(dir), 'NOT_FOUND')).message, /directory/);
    await decodeError(t, loadImage(''), 'NOT_FOUND');
    t.match((await decodeError(t, loadImage('https://example.com/cat.png'), 'NOT_FOUND')).message, /not URLs/);
});

t.test('inputs of the wrong type are a TypeError (programmer error), not an ImageDecodeError', async (t) => {
    for (const bad of [42, null, undefined, {}, new Uint16Array(4)]) {
        await t.rejects(loadImage(bad as never), TypeError, String(bad));
    }
    await t.rejects(loadImage(new Uint16Array(4) as never), /rgbFromRaw/, 'typed arrays of pixels point to rgbFromRaw');
});

t.test('bad options are rejected before any decoding', async (t) => {
    const png = await solidPng(2, 2);
    await t.rejects(loadImage(png, { maxSide: 0 }), RangeError);
    await t.rejects(loadImage(png, { maxSide: 10.5 }), RangeError);
    await t.rejects(loadImage(png, { maxPixels: -1 }), RangeError);
    await t.rejects(loadImage(png, { maxPixels: Number.NaN }), RangeError);
    await t.rejects(loadImage(png, { alpha: 'white' as never }), TypeError);
    await t.rejects(loadImage(png, { alpha: { background: 'not-a-colour' } }), TypeError);
    await t.rejects(loadImage(png, { failOn: 'sometimes' as never }), RangeError);
});

t.test('maxPixels: Infinity disables the limit', async (t) => {
    const img = await loadImage(await solidPng(3, 3), { maxPixels: Infinity });
    t.equal(img.data.length, 27);
});
