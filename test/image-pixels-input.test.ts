// Decoded pixels are an image input of their own: taken as they are (the same memory), never decoded again; and a
// scan, which decodes ahead, hands its pixels to the guard, so each image of a scan is decoded once, and the next
// pictures are decoded while the current one is assessed.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/tiny-models.js';
import { decodeCount, decodedCount } from '../lib/image/decode-count.js';
import { ImageDecodeError, LlavaGuard, Policy, loadImage, scanImages } from '../lib/index.js';
import type { ScanGuard } from '../lib/scan/scan.js';
import { patternImage } from './helpers/models.js';

const pngOf = (img: { data: Uint8Array; width: number; height: number }) =>
    sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } })
        .png()
        .toBuffer();

t.test('RGB pixels are taken as they are: the same memory, no decode', async (t) => {
    const img = patternImage(20, 10, 1);
    const before = decodeCount();
    const rgb = await loadImage({ ...img, channels: 3 }, { maxSide: 64 });
    t.equal(decodeCount(), before, 'nothing decoded');
    t.equal(rgb.data.buffer, img.data.buffer, 'the same memory');
    t.same([rgb.width, rgb.height, rgb.source.format], [20, 10, 'raw']);
    await loadImage(await pngOf(img));
    t.equal(decodeCount(), before + 1, 'an encoded image counts one decode');
});

t.test(
    'pixels longer than maxSide are downscaled as the decoded file would be; RGBA alpha as loadImage does',
    async (t) => {
        const img = patternImage(60, 30, 2);
        const fromPixels = await loadImage({ ...img, channels: 3 }, { maxSide: 20 });
        const fromFile = await loadImage(await pngOf(img), { maxSide: 20 });
        t.same([fromPixels.width, fromPixels.height], [20, 10]);
        t.same(Buffer.from(fromPixels.data), Buffer.from(fromFile.data), 'the same pixels as from the PNG');
        const rgba = new Uint8Array([10, 20, 30, 0, 40, 50, 60, 255]);
        const dropped = await loadImage({ data: rgba, width: 2, height: 1, channels: 4 });
        t.same([...dropped.data], [10, 20, 30, 40, 50, 60], 'alpha dropped, stored colour kept');
        const flat = await loadImage(
            { data: rgba, width: 2, height: 1, channels: 4 },
            { alpha: { background: '#ffffff' } },
        );
        t.same([...flat.data.slice(0, 3)], [255, 255, 255], 'transparent pixel composited on the background');
        await t.rejects(
            loadImage({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 }),
            ImageDecodeError,
            'the sizes are checked',
        );
    },
);

t.test('a scan of 100 images decodes each image once', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'llavaguard-decode-once-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'images'));
    for (let i = 0; i < 100; i++) {
        await writeFile(join(dir, 'images', `${String(i).padStart(3, '0')}.png`), await pngOf(patternImage(12, 10, i)));
    }
    const guard = await LlavaGuard.load({ ...(await cachedTestModel('onevision')), threads: 1, sequences: 4 });
    t.teardown(() => guard.close());
    const policy = Policy.default('v1.2').remove('O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9');
    const before = decodeCount();
    const scan = scanImages(guard, join(dir, 'images'), { policy, seed: 1, maxRationaleChars: 4, maxTokens: 40 });
    let records = 0;
    let next = await scan.next();
    for (; !next.done; next = await scan.next()) records++;
    t.equal(records, 100);
    t.equal(next.value.assessed, 100, 'every image was assessed');
    t.equal(decodeCount() - before, 100, 'one decode an image');
});

t.test("a scan decodes the next pictures while the current one's verdict is computed", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'llavaguard-decode-ahead-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const N = 12;
    for (let i = 0; i < N; i++) {
        await writeFile(join(dir, `${String(i).padStart(2, '0')}.png`), await pngOf(patternImage(400, 300, i)));
    }
    const guard = await LlavaGuard.load({ ...(await cachedTestModel('onevision')), threads: 1 });
    t.teardown(() => guard.close());
    // The real guard, with each assessment's window noted: decodes that end inside it ran beside its compute.
    const during: number[] = [];
    const watched: ScanGuard = {
        modelInfo: guard.modelInfo,
        defaultPolicy: guard.defaultPolicy,
        imagePipeline: guard.imagePipeline,
        sequences: 1,
        assess: async (image, options) => {
            const before = decodedCount();
            try {
                return await guard.assess(image, options);
            } finally {
                during.push(decodedCount() - before);
            }
        },
    };
    const policy = Policy.default('v1.2').remove('O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9');
    const scan = scanImages(watched, dir, { policy, seed: 1, maxRationaleChars: 4, maxTokens: 40, parallel: 1 });
    for (let next = await scan.next(); !next.done; next = await scan.next());
    t.equal(during.length, N, 'every picture assessed, one at a time');
    t.comment(`decodes that ended during each assessment: ${during.join(' ')}`);
    // the read-ahead (4 deep by default) refills as each picture is taken: until it runs dry, a later picture's
    // decode ends during every assessment
    t.ok(
        during.slice(0, N - 4).every((n) => n >= 1),
        'a later picture decoded during each of the first assessments',
    );
});
