import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import t, { type Test } from 'tap';

import { loadImage, type RgbImage } from '../lib/image/index.js';
import {
    BLUE,
    GREEN,
    RED,
    allNear,
    fromRaw,
    halvesRaw,
    near,
    noisyJpeg,
    pixel,
    raw16,
    solidPng,
    solidRaw,
    tiff16,
    twoFrames,
} from './fixtures/images/make.js';

function assertPackedRgb(t: Test, img: RgbImage, width: number, height: number): void {
    t.equal(img.width, width, 'width');
    t.equal(img.height, height, 'height');
    t.ok(img.data instanceof Uint8Array, 'data is a Uint8Array');
    t.equal(img.data.length, width * height * 3, 'data is width*height*3 bytes');
}

t.test('a PNG file path decodes to packed 8-bit RGB with its exact pixels', async (t) => {
    const dir = t.testdir();
    const file = join(dir, 'halves.png');
    await fromRaw(halvesRaw(6, 4, RED, BLUE), 6, 4, 3)
        .png()
        .toFile(file);
    const img = await loadImage(file);
    assertPackedRgb(t, img, 6, 4);
    t.same(pixel(img, 0, 0), RED);
    t.same(pixel(img, 5, 3), BLUE);
    t.match(img.source, {
        width: 6,
        height: 4,
        format: 'png',
        channels: 3,
        depth: 'uchar',
        space: 'srgb',
        hasAlpha: false,
    });
});

t.test('a JPEG buffer decodes to RGB close to the encoded colours', async (t) => {
    const buf = await fromRaw(solidRaw(16, 16, [200, 40, 60]), 16, 16, 3)
        .jpeg({ quality: 95 })
        .toBuffer();
    const img = await loadImage(buf);
    assertPackedRgb(t, img, 16, 16);
    t.ok(allNear(img, [200, 40, 60], 6), 'colours survive JPEG within tolerance');
    t.equal(img.source.format, 'jpeg');
});

t.test('a WebP (lossless) decodes exactly', async (t) => {
    const buf = await fromRaw(halvesRaw(8, 2, GREEN, RED), 8, 2, 3)
        .webp({ lossless: true })
        .toBuffer();
    const img = await loadImage(buf);
    assertPackedRgb(t, img, 8, 2);
    t.same(pixel(img, 0, 1), GREEN);
    t.same(pixel(img, 7, 0), RED);
    t.equal(img.source.format, 'webp');
});

t.test('animated images: only the first frame is returned', async (t) => {
    const gif = await twoFrames(4, 3, RED, BLUE).gif().toBuffer();
    const webp = await twoFrames(4, 3, RED, BLUE).webp({ lossless: true }).toBuffer();
    const tiff = await twoFrames(4, 3, RED, BLUE).tiff().toBuffer();
    for (const [name, buf] of [
        ['gif', gif],
        ['webp', webp],
        ['tiff', tiff],
    ] as const) {
        const img = await loadImage(buf);
        assertPackedRgb(t, img, 4, 3);
        t.ok(allNear(img, RED, 2), `${name}: first frame (red), not the second (blue) or a strip of both`);
        t.equal(img.source.frames, 2, `${name}: source reports 2 frames`);
        t.equal(img.source.height, 3, `${name}: source height is one frame`);
    }
});

t.test('16-bit PNG and 16-bit TIFF become 8-bit RGB with the same colour', async (t) => {
    const samples = raw16(3, 2, [0x4000, 0x8000, 0xc000]);
    const png16 = await sharp(samples, { raw: { width: 3, height: 2, channels: 3 } })
        .toColourspace('rgb16')
        .png()
        .toBuffer();
    const tif16 = tiff16(3, 2, samples);
    for (const [name, buf] of [
        ['png', png16],
        ['tiff', tif16],
    ] as const) {
        const img = await loadImage(buf);
        assertPackedRgb(t, img, 3, 2);
        t.equal(img.source.depth, 'ushort', `${name}: the source really was 16-bit`);
        t.ok(allNear(img, [64, 128, 192], 1), `${name}: 16-bit values scaled to 8-bit, got ${pixel(img, 0, 0)}`);
    }
});

t.test('a CMYK JPEG is converted to sRGB RGB (3 channels)', async (t) => {
    const buf = await fromRaw(solidRaw(8, 8, RED), 8, 8, 3)
        .toColourspace('cmyk')
        .jpeg()
        .toBuffer();
    const img = await loadImage(buf);
    t.equal(img.source.space, 'cmyk', 'the source really was CMYK');
    t.equal(img.source.channels, 4);
    assertPackedRgb(t, img, 8, 8);
    const [r, g, b] = pixel(img, 4, 4);
    t.ok(r > 200 && g < 40 && b < 40, `red stays red through CMYK, got ${[r, g, b]}`);
});

t.test('greyscale images are expanded to three equal channels', async (t) => {
    const grey = await fromRaw(solidRaw(5, 5, [90, 90, 90]), 5, 5, 3)
        .toColourspace('b-w')
        .png()
        .toBuffer();
    const img = await loadImage(grey);
    t.equal(img.source.channels, 1, 'the source really was 1-channel');
    assertPackedRgb(t, img, 5, 5);
    t.ok(allNear(img, [90, 90, 90], 1), `grey 90 → (90,90,90), got ${pixel(img, 0, 0)}`);
});

t.test('a palette PNG decodes to its palette colours', async (t) => {
    const buf = await fromRaw(halvesRaw(8, 8, RED, BLUE), 8, 8, 3)
        .png({ palette: true, colours: 2, dither: 0 })
        .toBuffer();
    const img = await loadImage(buf);
    t.equal((await sharp(buf).metadata()).isPalette, true, 'the source really was palette-based');
    assertPackedRgb(t, img, 8, 8);
    t.ok(near(pixel(img, 0, 0), RED, 2) && near(pixel(img, 7, 7), BLUE, 2), 'palette colours kept');
});

// A transparent pixel stored as (200,100,50,alpha 0) next to an opaque (10,20,30).
const rgbaRaw = () => Buffer.from([200, 100, 50, 0, 10, 20, 30, 255, 200, 100, 50, 0, 10, 20, 30, 255]);

t.test('RGBA: alpha is dropped and the stored colour of transparent pixels is kept (PIL convert("RGB"))', async (t) => {
    const png = await fromRaw(rgbaRaw(), 2, 2, 4).png().toBuffer();
    const img = await loadImage(png);
    t.equal(img.source.hasAlpha, true);
    t.equal(img.source.channels, 4);
    assertPackedRgb(t, img, 2, 2);
    t.same(pixel(img, 0, 0), [200, 100, 50], 'transparent pixel keeps its stored colour, not white, not black');
    t.same(pixel(img, 1, 0), [10, 20, 30], 'opaque pixel unchanged');
});

t.test('RGBA + downscale: transparent pixels keep their stored colour (alpha removed before resizing)', async (t) => {
    const png = await fromRaw(solidRaw(64, 32, [200, 100, 50, 0]), 64, 32, 4)
        .png()
        .toBuffer();
    const img = await loadImage(png, { maxSide: 16 });
    assertPackedRgb(t, img, 16, 8);
    t.ok(allNear(img, [200, 100, 50], 1), `no premultiplied-alpha blackening, got ${pixel(img, 3, 3)}`);
});

t.test('grey + alpha: alpha dropped, grey expanded to RGB', async (t) => {
    const la = await fromRaw(Buffer.from([90, 90, 90, 0, 180, 180, 180, 255]), 2, 1, 4)
        .toColourspace('b-w')
        .png()
        .toBuffer();
    const img = await loadImage(la, { maxSide: 1 });
    t.equal(img.source.channels, 2, 'the source really was grey+alpha');
    assertPackedRgb(t, img, 1, 1);
    const full = await loadImage(la);
    t.same([...full.data], [90, 90, 90, 180, 180, 180]);
});

t.test('alpha: { background } composites transparency onto that colour instead', async (t) => {
    const png = await fromRaw(rgbaRaw(), 2, 2, 4).png().toBuffer();
    const img = await loadImage(png, { alpha: { background: '#ffffff' } });
    t.same(pixel(img, 0, 0), [255, 255, 255], 'transparent pixel becomes the background');
    t.same(pixel(img, 1, 0), [10, 20, 30], 'opaque pixel unchanged');
    const big = await fromRaw(solidRaw(40, 40, [200, 100, 50, 0]), 40, 40, 4)
        .png()
        .toBuffer();
    const small = await loadImage(big, { alpha: { background: '#000080' }, maxSide: 10 });
    assertPackedRgb(t, small, 10, 10);
    t.ok(allNear(small, [0, 0, 128], 1), 'flatten then resize');
});

t.test('EXIF orientation 6: a JPEG stored sideways arrives upright', async (t) => {
    // Stored 32x16: left half red, right half blue. Orientation 6 means "rotate
    // 90° clockwise to display", so the upright image is 16x32 with the stored
    // left half (red) on top.
    const jpeg = await fromRaw(halvesRaw(32, 16, RED, BLUE), 32, 16, 3)
        .jpeg({ quality: 95 })
        .withMetadata({ orientation: 6 })
        .toBuffer();
    t.equal((await sharp(jpeg).metadata()).orientation, 6, 'fixture carries orientation 6');
    const img = await loadImage(jpeg);
    assertPackedRgb(t, img, 16, 32);
    t.match(img.source, { width: 32, height: 16, orientation: 6 }, 'source reports stored size and the tag');
    t.ok(near(pixel(img, 8, 4), RED, 40), `top is red, got ${pixel(img, 8, 4)}`);
    t.ok(near(pixel(img, 8, 27), BLUE, 40), `bottom is blue, got ${pixel(img, 8, 27)}`);
});

t.test('EXIF orientation + maxSide: the limit applies to the upright image', async (t) => {
    const jpeg = await fromRaw(solidRaw(80, 40, GREEN), 80, 40, 3)
        .jpeg()
        .withMetadata({ orientation: 6 })
        .toBuffer();
    const img = await loadImage(jpeg, { maxSide: 20 });
    assertPackedRgb(t, img, 10, 20);
});

t.test('a 1x1 image decodes to 3 bytes', async (t) => {
    const img = await loadImage(await solidPng(1, 1, BLUE));
    assertPackedRgb(t, img, 1, 1);
    t.same([...img.data], BLUE);
});

t.test('a 2x5000 image: kept as is without maxSide; with maxSide its short side stays at least 1 pixel', async (t) => {
    const png = await solidPng(2, 5000, GREEN);
    const full = await loadImage(png);
    assertPackedRgb(t, full, 2, 5000);
    t.ok(allNear(full, GREEN));
    const small = await loadImage(png, { maxSide: 672 });
    assertPackedRgb(t, small, 1, 672);
    t.ok(allNear(small, GREEN, 1));
});

t.test('maxSide downscales the longest side to exactly maxSide, keeping the aspect ratio', async (t) => {
    const landscape = await loadImage(await noisyJpeg(1200, 800), { maxSide: 300 });
    assertPackedRgb(t, landscape, 300, 200);
    const odd = await loadImage(await solidPng(1000, 333), { maxSide: 672 });
    assertPackedRgb(t, odd, 672, 224); // 333 * 0.672 = 223.8
    const portrait = await loadImage(await solidPng(300, 900), { maxSide: 90 });
    assertPackedRgb(t, portrait, 30, 90);
    t.equal(portrait.source.width, 300, 'source keeps the original size');
});

t.test('maxSide never upscales', async (t) => {
    const img = await loadImage(await solidPng(100, 50), { maxSide: 672 });
    assertPackedRgb(t, img, 100, 50);
    const exact = await loadImage(await solidPng(672, 10), { maxSide: 672 });
    assertPackedRgb(t, exact, 672, 10);
});

t.test('a sharp instance is taken as a pipeline: its output is the image, and it is not mutated', async (t) => {
    const png = await fromRaw(halvesRaw(10, 4, RED, BLUE), 10, 4, 3)
        .png()
        .toBuffer();
    const inst = sharp(png).extract({ left: 5, top: 0, width: 5, height: 4 });
    const img = await loadImage(inst);
    assertPackedRgb(t, img, 5, 4);
    t.ok(allNear(img, BLUE), 'the extracted (blue) half');
    t.equal(img.source.format, 'png');
    const again = await inst.png().toBuffer({ resolveWithObject: true });
    t.match(again.info, { width: 5, height: 4, format: 'png' }, 'the instance still works as the user built it');
});

t.test('a sharp instance gets EXIF orientation, downscaling and alpha dropping too', async (t) => {
    const jpeg = await fromRaw(halvesRaw(32, 16, RED, BLUE), 32, 16, 3)
        .jpeg({ quality: 95 })
        .withMetadata({ orientation: 6 })
        .toBuffer();
    const upright = await loadImage(sharp(jpeg), { maxSide: 16 });
    assertPackedRgb(t, upright, 8, 16);
    t.ok(near(pixel(upright, 4, 2), RED, 40) && near(pixel(upright, 4, 13), BLUE, 40), 'upright and downscaled');

    const rawRgba = sharp(solidRaw(20, 10, [200, 100, 50, 0]), { raw: { width: 20, height: 10, channels: 4 } });
    const rgb = await loadImage(rawRgba, { maxSide: 10 });
    assertPackedRgb(t, rgb, 10, 5);
    t.ok(allNear(rgb, [200, 100, 50], 1), 'raw RGBA instance: alpha dropped before resizing');
});

t.test('Buffer, Uint8Array (with a byte offset) and ArrayBuffer inputs give the same pixels', async (t) => {
    const png = await fromRaw(halvesRaw(4, 2, RED, GREEN), 4, 2, 3)
        .png()
        .toBuffer();
    const backing = new ArrayBuffer(png.length + 7);
    const u8 = new Uint8Array(backing, 7, png.length);
    u8.set(png);
    const ab = png.buffer.slice(png.byteOffset, png.byteOffset + png.length);
    const fromBuffer = await loadImage(png);
    const fromU8 = await loadImage(u8);
    const fromAb = await loadImage(ab);
    t.same([...fromU8.data], [...fromBuffer.data], 'Uint8Array view with byteOffset 7');
    t.same([...fromAb.data], [...fromBuffer.data], 'ArrayBuffer');
    t.same(pixel(fromBuffer, 0, 0), RED);
    t.same(pixel(fromBuffer, 3, 1), GREEN);
});

t.test('a file path and the same bytes as a Buffer decode identically (JPEG on disk)', async (t) => {
    const dir = t.testdir();
    const jpeg = await noisyJpeg(40, 30);
    const file = join(dir, 'noise.jpg');
    await writeFile(file, jpeg);
    const a = await loadImage(file);
    const b = await loadImage(jpeg);
    assertPackedRgb(t, a, 40, 30);
    t.ok(Buffer.from(a.data).equals(Buffer.from(b.data)));
});

t.test('the pixel limit is inclusive: exactly maxPixels decodes', async (t) => {
    const img = await loadImage(await solidPng(100, 100), { maxPixels: 10_000 });
    assertPackedRgb(t, img, 100, 100);
});
