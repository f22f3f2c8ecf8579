import t from 'tap';

import {
    CLIP_MEAN,
    CLIP_STD,
    LLAVA15_CONFIG,
    expandToSquare,
    preprocessLlava15,
    resizeBicubicPil,
} from '../lib/preprocess/index.js';
import { checksum, makeImage, readCacheDump, readFixture, type PixelCaseRef } from './fixtures/preprocess/gen.js';

// Fixture: scripts/reference/preprocess_reference.py — LLaVA's expand2square +
// transformers' CLIPImageProcessor (PIL backend), shortest_edge 336, crop 336.

interface Ref {
    mean: number[];
    std: number[];
    background: number[];
    cases: Array<PixelCaseRef & { background: number[] }>;
}

function rgbToChw(img: { data: Uint8Array; width: number; height: number }): Uint8Array {
    const plane = img.width * img.height;
    const out = new Uint8Array(plane * 3);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = img.data[i * 3 + c];
    return out;
}

t.test('padding colour and centring', async (t) => {
    t.same(LLAVA15_CONFIG.padColor, [122, 116, 104]);
    const rgb = { data: new Uint8Array(3 * 2 * 3).fill(7), width: 3, height: 2 };
    const { image, offset } = expandToSquare(rgb, [122, 116, 104]);
    t.same([image.width, image.height], [3, 3]);
    t.same(offset, { x: 0, y: 0 }, '(3 - 2) // 2 = 0: the odd row goes below');
    t.same([...image.data.subarray(0, 9)], Array(9).fill(7));
    t.same([...image.data.subarray(18, 21)], [122, 116, 104]);
    const tall = expandToSquare({ data: new Uint8Array(2 * 7 * 3), width: 2, height: 7 }, [1, 2, 3]);
    t.same(tall.offset, { x: 2, y: 0 }, '(7 - 2) // 2 = 2 on the left, 3 on the right');
});

t.test('resize of an unchanged size copies', async (t) => {
    const img = makeImage('noise', 5, 4);
    const r = resizeBicubicPil(img, 5, 4);
    t.same([...r.data], [...img.data]);
    t.not(r.data, img.data);
});

t.test('pixels equal expand2square + CLIPImageProcessor', async (t) => {
    const ref = readFixture<Ref>('llava15-pixels.json');
    t.same(ref.background, [...LLAVA15_CONFIG.padColor]);
    t.same(ref.mean, [...CLIP_MEAN]);
    t.same(ref.std, [...CLIP_STD]);
    let maxSampleErr = 0;
    let maxFloatErr = 0;
    for (const c of ref.cases) {
        const out = preprocessLlava15(makeImage(c.kind, c.width, c.height));
        t.equal(out.pixels.length, 3 * 336 * 336);
        const u8 = rgbToChw(out.resized);
        const r = c.images[0];
        t.equal(checksum(u8), r.checksum, `${c.name} checksum`);
        for (const [ch, y, x, v] of r.samples)
            maxSampleErr = Math.max(maxSampleErr, Math.abs(u8[ch * 336 * 336 + y * 336 + x] - v));
        for (const [ch, y, x, v] of r.floatSamples)
            maxFloatErr = Math.max(maxFloatErr, Math.abs(out.pixels[ch * 336 * 336 + y * 336 + x] - v));
        const dump = readCacheDump(c.name);
        if (dump) {
            let e = 0;
            for (let k = 0; k < u8.length; k++) e = Math.max(e, Math.abs(u8[k] - dump[k]));
            t.equal(e, 0, `${c.name}: every pixel (max error ${e}/255)`);
        }
    }
    t.equal(maxSampleErr, 0, 'sampled pixels: max error 0/255');
    t.ok(maxFloatErr < 1e-6, `normalised values: max |error| ${maxFloatErr}`);
});
