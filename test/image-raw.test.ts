import t, { type Test } from 'tap';

import { ImageDecodeError, rgbFromRaw } from '../lib/image/index.js';

let current: Test = t;
function rawError(fn: () => unknown, code: string): ImageDecodeError {
    try {
        fn();
    } catch (err) {
        current.type(err, ImageDecodeError);
        current.equal((err as ImageDecodeError).code, code, `code ${code}: ${(err as Error).message}`);
        return err as ImageDecodeError;
    }
    current.fail(`expected ImageDecodeError ${code}, nothing was thrown`);
    return new ImageDecodeError('INVALID_RAW', '', 'unreachable');
}
t.beforeEach((t) => {
    current = t;
});

t.test('3-channel raw pixels pass through as the same memory, with dimensions', async (t) => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const img = rgbFromRaw({ data, width: 2, height: 2, channels: 3 });
    t.equal(img.width, 2);
    t.equal(img.height, 2);
    t.equal(img.data.buffer, data.buffer, 'not copied');
    t.same([...img.data], [...data]);
    t.match(img.source, { format: 'raw', channels: 3, depth: 'uchar', space: 'srgb', hasAlpha: false });
});

t.test('a Buffer view with a byte offset and a Uint8ClampedArray are accepted', async (t) => {
    const backing = Buffer.alloc(20, 9);
    const view = backing.subarray(5, 5 + 6);
    const img = rgbFromRaw({ data: view, width: 2, height: 1, channels: 3 });
    t.equal(img.data.byteOffset, 5);
    t.equal(img.data.length, 6);
    const clamped = rgbFromRaw({ data: new Uint8ClampedArray(3), width: 1, height: 1, channels: 3 });
    t.equal(clamped.data.length, 3);
});

t.test('4-channel raw pixels: alpha is dropped, stored colour kept (even where alpha is 0)', async (t) => {
    const data = new Uint8Array([200, 100, 50, 0, 10, 20, 30, 255]);
    const img = rgbFromRaw({ data, width: 2, height: 1, channels: 4 });
    t.same([...img.data], [200, 100, 50, 10, 20, 30]);
    t.equal(img.source.hasAlpha, true);
});

t.test('data too short or too long is INVALID_RAW with expected and actual sizes', async (t) => {
    const short = rawError(
        () => rgbFromRaw({ data: new Uint8Array(11), width: 2, height: 2, channels: 3 }),
        'INVALID_RAW',
    );
    t.match(short.message, '11 bytes');
    t.match(short.message, 'expected 12 (2 x 2 x 3)');
    t.match(short.message, /too short/);
    const long = rawError(
        () => rgbFromRaw({ data: new Uint8Array(13), width: 2, height: 2, channels: 3 }),
        'INVALID_RAW',
    );
    t.match(long.message, /too long/);
});

t.test('RGBA data declared as RGB (and vice versa) gets a hint about channels', async (t) => {
    const e = rawError(() => rgbFromRaw({ data: new Uint8Array(16), width: 2, height: 2, channels: 3 }), 'INVALID_RAW');
    t.match(e.message, /4-channel data/);
    const f = rawError(() => rgbFromRaw({ data: new Uint8Array(12), width: 2, height: 2, channels: 4 }), 'INVALID_RAW');
    t.match(f.message, /3-channel data/);
});

t.test('padded rows (a stride) are refused with a hint', async (t) => {
    const e = rawError(
        () =>
            rgbFromRaw({
                data: new Uint8Array(2 * 16),
                width: 5,
                height: 2,
                channels: 3 /* rows padded to 16 bytes */,
            }),
        'INVALID_RAW',
    );
    t.match(e.message, /stride/);
});

t.test('bad channels, dimensions and data types are INVALID_RAW', async (t) => {
    rawError(() => rgbFromRaw({ data: new Uint8Array(4), width: 2, height: 2, channels: 1 as never }), 'INVALID_RAW');
    rawError(() => rgbFromRaw({ data: new Uint8Array(6), width: 1.5, height: 2, channels: 3 }), 'INVALID_RAW');
    rawError(() => rgbFromRaw({ data: new Uint8Array(6), width: -1, height: 2, channels: 3 }), 'INVALID_RAW');
    rawError(() => rgbFromRaw({ data: new Uint16Array(3) as never, width: 1, height: 1, channels: 3 }), 'INVALID_RAW');
    rawError(() => rgbFromRaw({ data: [1, 2, 3] as never, width: 1, height: 1, channels: 3 }), 'INVALID_RAW');
    rawError(() => rgbFromRaw(null as never), 'INVALID_RAW');
});

t.test('zero width or height is EMPTY', async (t) => {
    rawError(() => rgbFromRaw({ data: new Uint8Array(0), width: 0, height: 5, channels: 3 }), 'EMPTY');
    rawError(() => rgbFromRaw({ data: new Uint8Array(0), width: 5, height: 0, channels: 4 }), 'EMPTY');
});

t.test('more pixels than maxPixels is TOO_LARGE, checked before the size', async (t) => {
    const e = rawError(
        () => rgbFromRaw({ data: new Uint8Array(0), width: 20000, height: 20000, channels: 3 }),
        'TOO_LARGE',
    );
    t.match(e.message, '20000x20000');
    rawError(
        () => rgbFromRaw({ data: new Uint8Array(30), width: 10, height: 1, channels: 3 }, { maxPixels: 9 }),
        'TOO_LARGE',
    );
});
