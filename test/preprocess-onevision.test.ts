import t from 'tap';

import {
    ONEVISION_CONFIG,
    packFeatures,
    planOneVision,
    preprocessOneVision,
    pyFloorDiv,
    pyRound,
    selectBestResolution,
} from '../lib/preprocess/index.js';
import {
    checksum,
    chwToU8,
    makeImage,
    readCacheDump,
    readFixture,
    type PixelCaseRef,
} from './fixtures/preprocess/gen.js';

// Fixtures: scripts/reference/preprocess_reference.py (transformers' own code, PIL backend).

interface TokenRow {
    width: number;
    height: number;
    best: [number, number];
    tiles: number;
    tokens: number;
    newlines: number;
    processorTokens: number;
}

t.test('python float helpers', async (t) => {
    t.equal(pyRound(44.99999999999999, 7), 45);
    t.equal(pyRound(161.99999999999997, 7), 162);
    t.equal(pyRound(2.5, 0), 2, 'ties to even');
    t.equal(pyRound(3.5, 0), 4, 'ties to even');
    t.equal(pyRound(0.00390625, 7), 0.0039062, 'binary-exact tie to even');
    t.equal(pyRound(1.25, 1), 1.2);
    t.equal(pyRound(-1.25, 1), -1.2);
    t.equal(pyRound(12.3456789012, 7), 12.3456789);
    t.equal(pyFloorDiv(7, 2), 3);
    t.equal(pyFloorDiv(-7, 2), -4);
    t.equal(pyFloorDiv(135, 1.2247448713915889), 110);
    // floor(a / b) where the rounded quotient hits an integer: Python gives the exact floor
    t.equal(pyFloorDiv(1, 0.1), 9, 'Python: 1 // 0.1 == 9.0');
    t.equal(Math.floor(1 / 0.1), 10, '(while plain division says 10)');
});

t.test('token counts equal transformers for every reference size', async (t) => {
    const ref = readFixture<{ pinpoints: Array<[number, number]>; sizes: TokenRow[] }>('onevision-tokens.json');
    t.ok(ref.sizes.length >= 40, `${ref.sizes.length} sizes`);
    t.same(ref.pinpoints, ONEVISION_CONFIG.gridPinpoints, 'pinpoints as in transformers');
    const mismatches: string[] = [];
    for (const r of ref.sizes) {
        const plan = planOneVision({ width: r.width, height: r.height });
        const best = selectBestResolution(r.width, r.height);
        const got = [best.width, best.height, plan.tiles.length, plan.tokens.total, plan.tokens.newlines];
        const want = [r.best[0], r.best[1], r.tiles, r.tokens, r.newlines];
        if (got.join() !== want.join()) mismatches.push(`${r.width}x${r.height}: got ${got} want ${want}`);
        if (r.tokens !== r.processorTokens)
            mismatches.push(`${r.width}x${r.height}: reference model/processor disagree`);
        if (plan.tokens.total !== plan.tokens.overview + plan.tokens.grid + plan.tokens.newlines)
            mismatches.push('sum');
    }
    t.same(mismatches, [], `0 mismatches over ${ref.sizes.length} sizes`);
});

t.test("the issue's examples", async (t) => {
    const a = planOneVision({ width: 1024, height: 768 });
    t.equal(a.tokens.total, 4725);
    t.same(a.grid, { rows: 2, cols: 3 });
    t.same(a.resized, { w: 1024, h: 768 });
    t.same(a.padded, { w: 1152, h: 768 });
    t.same(a.padOffset, { x: 64, y: 0 });
    // 1024 * 54/768 = 72 columns of picture, padding (81 - 72) // 2 = 4 each side → 73 kept
    t.same(a.unpaddedFeatureShape, { h: 54, w: 73 });
    t.equal(a.downsampled, undefined);
    t.same(a.tokens, { overview: 729, grid: 54 * 73, newlines: 54, total: 4725 });

    const b = planOneVision({ width: 4000, height: 3000 });
    t.equal(b.tokens.total, 7309);
    t.same(b.grid, { rows: 5, cols: 6 });
    t.ok(b.downsampled, 'anyres_max_9 downsampling');
    t.same(b.tokens.newlines, b.downsampled!.h);

    // 571x1713: unpad needs Python's round(x, 7) (44.99999999999999 → 45 columns)
    const c = planOneVision({ width: 571, height: 1713 });
    t.equal(c.unpadded.w, 45 + ((c.featureGrid.w - 45) % 2), 'odd padding keeps the extra column');
    t.equal(c.tokens.total, 7074);
});

t.test('tiles are cut row by row from the centred, padded picture', async (t) => {
    const p = planOneVision({ width: 777, height: 333 });
    t.same(p.padded, { w: 1152, h: 384 });
    t.same(p.resized, { w: 896, h: 384 }, 'ceil(777 * 384/333) = 896');
    t.same(p.padOffset, { x: 128, y: 0 });
    t.same(
        p.tiles.map((x) => [x.row, x.col, x.x, x.y]),
        [
            [0, 0, 0, 0],
            [0, 1, 384, 0],
            [0, 2, 768, 0],
        ],
    );
    const q = planOneVision({ width: 1, height: 500 });
    t.same(q.padded, { w: 384, h: 768 });
    t.same(q.resized, { w: 2, h: 768 }, 'ceil rule: ceil(1 * 768/500) = 2');
    t.same(q.padOffset, { x: 191, y: 0 });
    t.throws(() => planOneVision({ width: 0, height: 5 }), RangeError);
    t.throws(() => planOneVision({ width: 2.5, height: 5 }), RangeError);
});

interface PackCase {
    width: number;
    height: number;
    tokens: number;
    columnSums: number[];
    columnAbsSums: number[];
    newlineRows: number[];
    newlineCount: number;
    rows: number[][];
}

t.test('packFeatures equals pack_image_features', async (t) => {
    const ref = readFixture<{ dim: number; cases: PackCase[] }>('onevision-pack.json');
    const dim = ref.dim;
    let maxErr = 0;
    const downsampled: string[] = [];
    for (const c of ref.cases) {
        const plan = planOneVision({ width: c.width, height: c.height });
        if (plan.downsampled) downsampled.push(`${c.width}x${c.height}`);
        const n = plan.tiles.length + 1;
        const feats: Float32Array[] = [];
        for (let ti = 0; ti < n; ti++) {
            const f = new Float32Array(729 * dim);
            for (let i = 0; i < 729; i++) {
                for (let d = 0; d < dim; d++) f[i * dim + d] = ((ti * 7919 + i * 104729 + d * 7) % 2003) / 2003 - 0.5;
            }
            feats.push(f);
        }
        const newline = Float32Array.from({ length: dim }, (_, d) => 10 + d);
        const out = packFeatures(feats.slice(1), feats[0], newline, plan);
        t.equal(out.length / dim, c.tokens, `${c.width}x${c.height}: ${c.tokens} tokens`);
        // the same with the tiles concatenated into one array
        const flat = new Float32Array(plan.tiles.length * 729 * dim);
        for (const [i, f] of feats.slice(1).entries()) flat.set(f, i * 729 * dim);
        t.same(packFeatures(flat, feats[0], newline, plan), out, 'concatenated tiles give the same result');

        const nl: number[] = [];
        for (let r = 0; r < c.tokens; r++) if (out[r * dim] === 10) nl.push(r);
        t.equal(nl.length, c.newlineCount, 'newline count');
        t.same(nl.slice(0, 8), c.newlineRows, 'newline positions');
        for (const row of c.rows) {
            const r = row[0];
            for (let d = 0; d < dim; d++) maxErr = Math.max(maxErr, Math.abs(out[r * dim + d] - row[1 + d]));
        }
        for (let d = 0; d < dim; d++) {
            let s = 0;
            let a = 0;
            for (let r = 0; r < c.tokens; r++) {
                s += out[r * dim + d];
                a += Math.abs(out[r * dim + d]);
            }
            t.ok(
                Math.abs(s - c.columnSums[d]) < 1e-6 * c.columnAbsSums[d] + 1e-6,
                `column ${d} sum ${s} vs ${c.columnSums[d]}`,
            );
            t.ok(
                Math.abs(a - c.columnAbsSums[d]) < 1e-6 * c.columnAbsSums[d] + 1e-6,
                `column ${d} |sum| ${a} vs ${c.columnAbsSums[d]}`,
            );
        }
    }
    t.ok(maxErr < 1e-6, `max |error| over sampled rows ${maxErr}`);
    t.ok(downsampled.length >= 3, `bilinear downsampling exercised by ${downsampled.join(', ')}`);
    t.throws(
        () => packFeatures([], new Float32Array(729), new Float32Array(1), planOneVision({ width: 10, height: 10 })),
        RangeError,
    );
});

t.test('pixels equal LlavaOnevisionImageProcessor (PIL backend)', async (t) => {
    const ref = readFixture<{ cases: PixelCaseRef[] }>('onevision-pixels.json');
    const mean = ONEVISION_CONFIG.imageMean;
    const std = ONEVISION_CONFIG.imageStd;
    let maxSampleErr = 0;
    let maxFloatErr = 0;
    for (const c of ref.cases) {
        const rgb = makeImage(c.kind, c.width, c.height);
        const px = preprocessOneVision(rgb);
        const images = [px.overview, ...px.tiles];
        t.equal(images.length, c.images.length, `${c.name}: overview + ${px.tiles.length} tiles`);
        const dump = readCacheDump(c.name);
        let fullErr = 0;
        images.forEach((img, i) => {
            t.equal(img.length, 3 * 384 * 384);
            const u8 = chwToU8(img, mean, std);
            const r = c.images[i];
            t.equal(checksum(u8), r.checksum, `${c.name} #${i} checksum`);
            for (const [ch, y, x, v] of r.samples)
                maxSampleErr = Math.max(maxSampleErr, Math.abs(u8[ch * 384 * 384 + y * 384 + x] - v));
            for (const [ch, y, x, v] of r.floatSamples)
                maxFloatErr = Math.max(maxFloatErr, Math.abs(img[ch * 384 * 384 + y * 384 + x] - v));
            if (dump) {
                const want = dump.subarray(i * u8.length, (i + 1) * u8.length);
                for (let k = 0; k < u8.length; k++) fullErr = Math.max(fullErr, Math.abs(u8[k] - want[k]));
            }
        });
        if (dump) t.equal(fullErr, 0, `${c.name}: every pixel of every tile (max error ${fullErr}/255)`);
    }
    t.equal(maxSampleErr, 0, 'sampled pixels: max error 0/255');
    t.equal(maxFloatErr, 0, 'normalised float32 values identical');
});
