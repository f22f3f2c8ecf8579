import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
    GgmlType,
    GgufType,
    type GgufScalar,
    type GgufScalarType,
    GgufWriter,
    bf16ToF32,
    decodeF16,
    decodeF32,
    dequantizeQ8_0,
    f16ToF32,
    f32ToBf16,
    f32ToF16,
    quantizeQ8_0,
    readGguf,
    readGgufFile,
    readTensorData,
} from '../gguf/index.js';
import { tempDir } from './helpers/temp-dir.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const tmp = tempDir('gguf-writer-test-');

const f32 = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];

t.test('f32ToF16 gives hand-computed half bits: exact values, rounding to nearest even, overflow', async (t) => {
    const cases: Array<[number, number, string]> = [
        [0, 0x0000, '+0'],
        [-0, 0x8000, '-0 keeps its sign'],
        [1, 0x3c00, '1'],
        [-2, 0xc000, '-2'],
        [0.5, 0x3800, '0.5'],
        [65504, 0x7bff, 'largest finite half'],
        [65519, 0x7bff, 'just below the overflow midpoint rounds down'],
        [65520, 0x7c00, 'the overflow midpoint rounds (to even) to +inf'],
        [1e6, 0x7c00, 'too large -> +inf'],
        [-1e6, 0xfc00, 'too large negative -> -inf'],
        [0.1, 0x2e66, '0.1'],
        [1 / 3, 0x3555, '1/3'],
        [1 + 2 ** -11, 0x3c00, '1 + half an ulp: tie goes to the even mantissa (down)'],
        [1 + 3 * 2 ** -11, 0x3c02, '1 + 1.5 ulp: tie goes to the even mantissa (up)'],
        [1 + 2 ** -11 + 2 ** -20, 0x3c01, 'just above the midpoint rounds up'],
        [2 ** -14, 0x0400, 'smallest normal half'],
    ];
    for (const [x, h, what] of cases) t.equal(f32ToF16(x), h, `${what}: ${x} -> 0x${h.toString(16)}`);
});

t.test('f32ToF16 handles subnormals, infinities and NaN like ggml', async (t) => {
    t.equal(f32ToF16(2 ** -24), 0x0001, 'smallest subnormal half');
    t.equal(f32ToF16(1023 * 2 ** -24), 0x03ff, 'largest subnormal half');
    t.equal(f32ToF16(2 ** -25), 0x0000, 'half the smallest subnormal: tie to even -> 0');
    t.equal(f32ToF16(1.5 * 2 ** -24), 0x0002, '1.5 x smallest subnormal: tie to even -> 2');
    t.equal(f32ToF16(2.5 * 2 ** -24), 0x0002, '2.5 x smallest subnormal: tie to even -> 2');
    t.equal(f32ToF16(2 ** -25 + 2 ** -35), 0x0001, 'just above half the smallest subnormal -> 1');
    t.equal(f32ToF16(-(2 ** -24)), 0x8001, 'negative subnormal');
    t.equal(f32ToF16(1e-10), 0x0000, 'underflow to +0');
    t.equal(f32ToF16(-1e-10), 0x8000, 'underflow to -0');
    t.equal(f32ToF16(Infinity), 0x7c00, '+inf');
    t.equal(f32ToF16(-Infinity), 0xfc00, '-inf');
    t.equal(f32ToF16(NaN), 0x7e00, 'NaN -> quiet NaN');
    t.equal(f32ToF16(f32(0xffc00001)), 0xfe00, 'negative NaN keeps the sign');
    t.equal(f32ToF16(f32(0x7f800001)), 0x7e00, 'signalling NaN -> quiet NaN');
});

t.test('f16ToF32 inverts f32ToF16 for every finite half value', async (t) => {
    let bad = 0;
    for (let h = 0; h < 0x10000; h++) {
        const exp = (h >> 10) & 0x1f;
        if (exp === 0x1f) continue;
        if (f32ToF16(f16ToF32(h)) !== h) bad++;
    }
    t.equal(bad, 0, 'all 63488 finite halves round-trip');
    t.ok(Number.isNaN(f16ToF32(0x7e00)), 'NaN decodes to NaN');
    t.equal(f16ToF32(0x7c00), Infinity);
});

t.test('bf16 encoding rounds to nearest even and quiets NaN', async (t) => {
    t.equal(f32ToBf16(1), 0x3f80);
    t.equal(f32ToBf16(1 + 2 ** -8), 0x3f80, 'tie -> even (down)');
    t.equal(f32ToBf16(1 + 3 * 2 ** -8), 0x3f82, 'tie -> even (up)');
    t.equal(f32ToBf16(-2), 0xc000);
    t.equal(f32ToBf16(NaN), 0x7fc0);
    t.equal(bf16ToF32(0x3f80), 1);
});

t.test('Q8_0 of a hand-computed block: d = amax/127 as f16, q = round(x/d)', async (t) => {
    // x = -16..15 : amax = 16, d = 16/127, q = round(x * 127/16)
    const x = Float32Array.from({ length: 32 }, (_, j) => j - 16);
    const q = quantizeQ8_0(x);
    t.equal(q.length, 34, 'one block is 2 + 32 bytes');
    const d = new DataView(q.buffer).getUint16(0, true);
    t.equal(d, 0x3008, 'd = 16/127 = 0.125984... -> f16 0x3008');
    const qs = [...new Int8Array(q.buffer, 2, 32)];
    t.equal(qs[0], -127, 'x = -16 -> -127');
    t.equal(qs[16], 0, 'x = 0 -> 0');
    t.equal(qs[17], 8, 'x = 1 -> round(7.9375) = 8');
    t.equal(qs[18], 16, 'x = 2 -> round(15.875) = 16');
    t.equal(qs[24], 64, 'x = 8 -> 63.5 in float32 (x * (1/d) = 63.500004) -> 64');
    t.equal(qs[31], 119, 'x = 15 -> round(119.06) = 119');
    const roundf = (v: number) => Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
    const expected = [...x].map((v) => roundf(v * (127 / 16)));
    t.same(qs, expected, 'every element is roundf(x * 127 / amax), ties away from zero (x = -8 -> -64)');
});

t.test('Q8_0 rounds half away from zero and encodes an all-zero block as zeros', async (t) => {
    // amax = 127 -> d = 1 exactly, id = 1: q = roundf(x)
    const x = new Float32Array(32);
    x[0] = 127;
    x[1] = 2.5;
    x[2] = -2.5;
    x[3] = 0.5;
    x[4] = -0.5;
    x[5] = 1.4999999;
    const q = quantizeQ8_0(x);
    t.equal(new DataView(q.buffer).getUint16(0, true), 0x3c00, 'd = 1.0');
    t.same([...new Int8Array(q.buffer, 2, 6)], [127, 3, -3, 1, -1, 1], 'roundf: ties away from zero');
    const z = quantizeQ8_0(new Float32Array(32));
    t.ok(
        z.every((b) => b === 0),
        'zero block: d = 0 and all q = 0',
    );
    t.throws(() => quantizeQ8_0(new Float32Array(33)), /multiple of 32/);
});

t.test('encoders match outputs computed by ggml itself (fixture)', async (t) => {
    const fx = JSON.parse(readFileSync(here('./fixtures/gguf/ggml-reference.json'), 'utf8'));
    const bits = Uint32Array.from(fx.f32Bits, (h: string) => parseInt(h, 16));
    const vals = new Float32Array(bits.buffer);
    let bad16 = 0;
    let badbf = 0;
    vals.forEach((v, i) => {
        if (f32ToF16(v) !== parseInt(fx.f16[i], 16)) bad16++;
        if (f32ToBf16(v) !== parseInt(fx.bf16[i], 16)) badbf++;
    });
    t.equal(bad16, 0, `ggml_fp32_to_fp16 agrees on ${vals.length} values`);
    t.equal(badbf, 0, `ggml_fp32_to_bf16 agrees on ${vals.length} values`);
    const qin = new Float32Array(Uint32Array.from(fx.q8_0.inputF32Bits, (h: string) => parseInt(h, 16)).buffer);
    t.equal(
        Buffer.from(quantizeQ8_0(qin)).toString('hex'),
        fx.q8_0.outputHex,
        'quantize_row_q8_0_ref agrees byte for byte',
    );
    const back = dequantizeQ8_0(quantizeQ8_0(qin));
    for (let b = 0; b < qin.length / 32; b++) {
        let amax = 0;
        for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(qin[b * 32 + j]));
        // a scale below the f16 normal range loses precision (1e-6 block: d underflows to 0), as in ggml
        if (amax / 127 < 2 ** -14) continue;
        let err = 0;
        for (let j = 0; j < 32; j++) err = Math.max(err, Math.abs(back[b * 32 + j] - qin[b * 32 + j]));
        t.ok(err <= (amax / 127) * 0.51 + amax * 1e-3, `block ${b}: dequantized error ${err} within half a step`);
    }
});

/** GgufWriter's typed adders (gguf/metadata.ts), each written through below. */
type TypedAdder =
    | 'addU8'
    | 'addI8'
    | 'addU16'
    | 'addI16'
    | 'addU32'
    | 'addI32'
    | 'addU64'
    | 'addI64'
    | 'addF32'
    | 'addF64'
    | 'addBool'
    | 'addString';

/** Every scalar type once (extremes where the type has them): the typed adder that writes it, key, type code, value. */
const SCALARS: Array<[TypedAdder, string, number, GgufScalar]> = [
    ['addU8', 't.u8', GgufType.UINT8, 255],
    ['addI8', 't.i8', GgufType.INT8, -128],
    ['addU16', 't.u16', GgufType.UINT16, 65535],
    ['addI16', 't.i16', GgufType.INT16, -32768],
    ['addU32', 't.u32', GgufType.UINT32, 0xffffffff],
    ['addI32', 't.i32', GgufType.INT32, -0x80000000],
    ['addF32', 't.f32', GgufType.FLOAT32, 1.5],
    ['addBool', 't.bool', GgufType.BOOL, true],
    ['addString', 't.string', GgufType.STRING, 'héllo ▁ 世界 \n "quoted"'],
    ['addString', 't.empty_string', GgufType.STRING, ''],
    ['addU64', 't.u64', GgufType.UINT64, 0xffffffffffffffffn],
    ['addI64', 't.i64', GgufType.INT64, -(2n ** 63n)],
    ['addF64', 't.f64', GgufType.FLOAT64, Math.PI],
];

/** Every element type once, and an empty array: key, element type, values (FLOAT32 ones read back rounded). */
const ARRAYS: Array<[string, GgufScalarType, GgufScalar[]]> = [
    ['a.u8', GgufType.UINT8, [0, 1, 255]],
    ['a.i8', GgufType.INT8, [-128, 0, 127]],
    ['a.u16', GgufType.UINT16, [0, 65535]],
    ['a.i16', GgufType.INT16, [-32768, 32767]],
    ['a.u32', GgufType.UINT32, [0, 0xffffffff]],
    ['a.i32', GgufType.INT32, [-1, 2, -3]],
    ['a.f32', GgufType.FLOAT32, [0.25, -8, 1e-5]],
    ['a.bool', GgufType.BOOL, [true, false, true]],
    ['a.string', GgufType.STRING, ['a', '', 'ĠĊ', '<0x0A>']],
    ['a.u64', GgufType.UINT64, [0n, 2n ** 64n - 1n]],
    ['a.i64', GgufType.INT64, [-(2n ** 63n), 2n ** 63n - 1n]],
    ['a.f64', GgufType.FLOAT64, [Math.E, -0.1]],
    ['a.empty', GgufType.INT32, []],
];

function allTypesWriter(): GgufWriter {
    const w = new GgufWriter();
    for (const [adder, key, , value] of SCALARS) (w[adder] as (key: string, v: GgufScalar) => GgufWriter)(key, value);
    for (const [key, elemType, values] of ARRAYS) w.addArray(key, elemType, values);
    return w;
}

t.test('writer -> reader round trip preserves every metadata value type with its type code', async (t) => {
    const buf = await allTypesWriter().toBuffer();
    const h = await readGguf(buf);
    t.equal(h.version, 3);
    const get = (k: string) => h.metadata.get(k)!;
    for (const [, k, type, value] of SCALARS) {
        t.equal(get(k).type, type, `${k} type`);
        t.equal(get(k).value, value, `${k} value`);
    }
    for (const [k, elemType, values] of ARRAYS) {
        const v = get(k);
        t.equal(v.type, GgufType.ARRAY, `${k} is an array`);
        if (v.type !== GgufType.ARRAY) continue;
        t.equal(v.elemType, elemType, `${k} element type`);
        t.equal(v.length, values.length, `${k} length`);
        const stored = elemType === GgufType.FLOAT32 ? values.map((x) => Math.fround(x as number)) : values;
        t.same(v.value, stored, `${k} values`);
    }
    t.same([...h.metadata.keys()].slice(0, 3), ['t.u8', 't.i8', 't.u16'], 'insertion order is kept');
    t.equal(h.tensors.length, 0);
});

t.test('writer -> reader round trip of tensors of every supported type, with aligned offsets', async (t) => {
    const w = new GgufWriter();
    w.addString('general.architecture', 'test');
    const vals = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    w.addTensor('f32', [64], GgmlType.F32, vals);
    w.addTensor('f16', [32, 2], GgmlType.F16, vals);
    w.addTensor('bf16', [16, 2, 2], GgmlType.BF16, vals);
    w.addTensor('q8_0', [64], GgmlType.Q8_0, vals);
    w.addTensor('odd', [3], GgmlType.F32, new Float32Array([1, 2, 3])); // 12 bytes: padding follows
    w.addTensor('q4_0.raw', [32, 2], GgmlType.Q4_0, new Uint8Array(36).fill(7));
    w.addTensor('q4_k.raw', [256], GgmlType.Q4_K, new Uint8Array(144).fill(1));
    w.addTensor('q5_k.raw', [256], GgmlType.Q5_K, new Uint8Array(176).fill(2));
    w.addTensor('q6_k.raw', [256], GgmlType.Q6_K, new Uint8Array(210).fill(3));
    w.addTensor('i32.raw', [2, 1, 1, 2], GgmlType.I32, new Uint8Array(16).fill(9));
    w.addTensor('lazy', [32], GgmlType.F16, () => vals.subarray(0, 32));
    const file = path.join(tmp, 'tensors.gguf');
    const size = await w.write(file);
    const h = await readGgufFile(file);
    t.equal(h.fileSize, size);
    t.equal(h.alignment, 32);
    t.equal(h.dataOffset % 32, 0, 'data section aligned');
    const byName = new Map(h.tensors.map((x) => [x.name, x]));
    const expect: Array<[string, number[], string, number]> = [
        ['f32', [64], 'F32', 256],
        ['f16', [32, 2], 'F16', 128],
        ['bf16', [16, 2, 2], 'BF16', 128],
        ['q8_0', [64], 'Q8_0', 68],
        ['odd', [3], 'F32', 12],
        ['q4_0.raw', [32, 2], 'Q4_0', 36],
        ['q4_k.raw', [256], 'Q4_K', 144],
        ['q5_k.raw', [256], 'Q5_K', 176],
        ['q6_k.raw', [256], 'Q6_K', 210],
        ['i32.raw', [2, 1, 1, 2], 'I32', 16],
        ['lazy', [32], 'F16', 64],
    ];
    let prevEnd = 0;
    for (const [name, dims, typeName, nbytes] of expect) {
        const ti = byName.get(name)!;
        t.same(ti.dims, dims, `${name} dims`);
        t.equal(ti.typeName, typeName, `${name} type`);
        t.equal(ti.nbytes, nbytes, `${name} size`);
        t.equal(ti.offset % 32, 0, `${name} offset aligned`);
        t.ok(ti.offset >= prevEnd, `${name} after the previous tensor`);
        prevEnd = ti.offset + ti.nbytes;
    }
    t.same([...decodeF32(await readTensorData(file, byName.get('f32')!))], [...vals], 'F32 bytes');
    const f16 = decodeF16(await readTensorData(file, byName.get('f16')!));
    t.ok(
        f16.every((v, i) => Math.abs(v - vals[i]) <= Math.abs(vals[i]) * 2 ** -11 + 1e-7),
        'F16 values within half an ulp',
    );
    const q8 = dequantizeQ8_0(await readTensorData(file, byName.get('q8_0')!));
    t.ok(
        q8.every((v, i) => Math.abs(v - vals[i]) < 3 / 127),
        'Q8_0 values within one step',
    );
    t.same(
        [...(await readTensorData(file, byName.get('q6_k.raw')!))],
        new Array(210).fill(3),
        'pre-encoded bytes kept',
    );
    t.same(decodeF16(await readTensorData(file, byName.get('lazy')!)), f16.subarray(0, 32), 'lazy data provider');
    const raw = readFileSync(file);
    const odd = byName.get('odd')!;
    t.ok(
        raw.subarray(odd.absoluteOffset + 12, odd.absoluteOffset + 32).every((b) => b === 0),
        'padding is zeros',
    );
});

t.test('a non-default alignment is written as general.alignment and used for every offset', async (t) => {
    const w = new GgufWriter({ alignment: 64 });
    w.addTensor('a', [3], GgmlType.F32, new Float32Array(3));
    w.addTensor('b', [5], GgmlType.F32, new Float32Array(5));
    const h = await readGguf(await w.toBuffer());
    t.equal(h.alignment, 64);
    t.equal(h.metadata.get('general.alignment')?.type, GgufType.UINT32);
    t.equal(h.dataOffset % 64, 0);
    t.same(
        h.tensors.map((x) => x.offset),
        [0, 64],
    );
    t.throws(() => new GgufWriter({ alignment: 48 }), /power of 2/);
});

t.test('write() goes through <path>.tmp and renames; a failed write leaves no file behind', async (t) => {
    const file = path.join(tmp, 'atomic.gguf');
    const w = new GgufWriter().addString('k', 'v');
    await w.write(file);
    t.ok(existsSync(file), 'final file exists');
    t.notOk(existsSync(`${file}.tmp`), 'no .tmp left');

    const bad = new GgufWriter();
    bad.addTensor('x', [4], GgmlType.F32, () => {
        throw new Error('generator failed');
    });
    const file2 = path.join(tmp, 'failed.gguf');
    await t.rejects(bad.write(file2), /generator failed/);
    t.notOk(existsSync(file2), 'nothing under the final name');
    t.notOk(existsSync(`${file2}.tmp`), 'tmp file removed');

    // rewriting over an existing file replaces it whole
    await new GgufWriter().addString('k', 'second').write(file);
    t.equal((await readGgufFile(file)).metadata.get('k')?.value, 'second');
    t.same(
        readdirSync(tmp).filter((f) => f.endsWith('.tmp')),
        [],
    );
});

t.test('writer rejects invalid metadata and tensors with clear errors', async (t) => {
    const w = new GgufWriter();
    w.addString('dup', 'a');
    t.throws(() => w.addString('dup', 'b'), /duplicate metadata key 'dup'/);
    t.throws(() => w.addU32('x', -1), /not a valid UINT32/);
    t.throws(() => w.addU32('x', 1.5), /not a valid UINT32/);
    t.throws(() => w.addU8('x', 256), /not a valid UINT8/);
    t.throws(() => w.addI32('x', 2 ** 31), /not a valid INT32/);
    t.throws(() => w.addU64('x', -1n), /not a valid UINT64/);
    t.throws(() => w.addKV('x', GgufType.ARRAY as never, [] as never), /nested|scalar element type/);
    t.throws(() => w.addArray('x', GgufType.ARRAY as never, []), /nested arrays/);
    t.throws(() => w.addArray('x', GgufType.INT32, [1, 'a' as never]), /not a valid INT32/);
    t.throws(() => w.addString('', 'v'), /non-empty/);
    t.throws(() => w.addTensor('x'.repeat(64), [1], GgmlType.F32, new Float32Array(1)), /1\.\.63 bytes/);
    t.throws(() => w.addTensor('x', [], GgmlType.F32, new Float32Array(0)), /1\.\.4/);
    t.throws(() => w.addTensor('x', [1, 1, 1, 1, 1], GgmlType.F32, new Float32Array(1)), /1\.\.4/);
    t.throws(() => w.addTensor('x', [4], GgmlType.F32, new Float32Array(3)), /3 values given for 4 elements/);
    t.throws(() => w.addTensor('x', [16], GgmlType.Q8_0, new Float32Array(16)), /multiple of the Q8_0 block size 32/);
    t.throws(() => w.addTensor('x', [32], GgmlType.Q4_0, new Float32Array(32)), /cannot encode float32 values as Q4_0/);
    t.throws(() => w.addTensor('x', [32], GgmlType.Q4_0, new Uint8Array(17)), /17 bytes given, Q4_0 needs 18/);
    t.throws(() => w.addTensor('x', [1], 99, new Uint8Array(1)), /unknown ggml type 99/);
    w.addTensor('t', [1], GgmlType.F32, new Float32Array(1));
    t.throws(() => w.addTensor('t', [1], GgmlType.F32, new Float32Array(1)), /duplicate tensor name 't'/);
    t.throws(() => w.addU32('general.alignment', 64), /before the first tensor/);
});
