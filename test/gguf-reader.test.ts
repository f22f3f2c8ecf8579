import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

import {
    GgmlType,
    GgufFormatError,
    GgufType,
    GgufWriter,
    decodeF16,
    decodeF32,
    quantizeQ8_0,
    readGguf,
    readGgufFile,
    readTensorData,
} from '../gguf/index.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gguf-reader-test-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

/** A small valid file: 3 KVs (string, int32 array, u32) and 2 tensors. */
async function baseFile(): Promise<Buffer> {
    const w = new GgufWriter();
    w.addString('general.architecture', 'testvalue');
    w.addArray('test.array', GgufType.INT32, [1, 2, 3]);
    w.addU32('test.n', 7);
    w.addTensor('tensor.a', [32], GgmlType.F32, new Float32Array(32).fill(1));
    w.addTensor('tensor.b', [32, 2], GgmlType.F16, new Float32Array(64).fill(2));
    return w.toBuffer();
}

/** Offset just after the (unique) bytes of `s` in buf. */
function after(buf: Buffer, s: string): number {
    const i = buf.indexOf(Buffer.from(s));
    if (i < 0 || buf.indexOf(Buffer.from(s), i + 1) >= 0) throw new Error(`'${s}' not unique`);
    return i + Buffer.byteLength(s);
}
/** Offset of the u64 length that precedes string `s`. */
const lenOf = (buf: Buffer, s: string) => after(buf, s) - Buffer.byteLength(s) - 8;

function patched(buf: Buffer, f: (b: Buffer) => void): Buffer {
    const b = Buffer.from(buf);
    f(b);
    return b;
}

async function rejects(t: Test, buf: Uint8Array, re: RegExp, what: string) {
    await t.rejects(readGguf(buf), re, what);
    await t.rejects(readGguf(buf), GgufFormatError, `${what}: a GgufFormatError`);
}

t.test('a valid file parses: version, metadata, tensors, alignment and data offset', async (t) => {
    const buf = await baseFile();
    const h = await readGguf(buf);
    t.equal(h.version, 3);
    t.equal(h.metadata.size, 3);
    t.equal(h.metadata.get('general.architecture')?.value, 'testvalue');
    t.same(h.metadata.get('test.array')?.value, [1, 2, 3]);
    t.equal(h.alignment, 32);
    const headerEnd = after(buf, 'tensor.b') + 4 + 16 + 4 + 8; // n_dims, 2 dims, type, offset
    t.equal(h.dataOffset, Math.ceil(headerEnd / 32) * 32, 'data starts at the header end rounded up to 32');
    t.equal(h.dataOffset % 32, 0);
    t.same(
        h.tensors.map((x) => [x.name, x.dims, x.typeName, x.offset, x.nbytes]),
        [
            ['tensor.a', [32], 'F32', 0, 128],
            ['tensor.b', [32, 2], 'F16', 128, 128],
        ],
    );
    t.equal(h.fileSize, buf.length);
    t.equal(h.dataOffset + 256, buf.length, 'data section holds exactly the two tensors');
});

t.test('bad magic is rejected as "not a GGUF file"', async (t) => {
    const buf = await baseFile();
    await rejects(
        t,
        patched(buf, (b) => b.write('GGML', 0)),
        /not a GGUF file: bad magic 'GGML'/,
        'wrong magic',
    );
    await rejects(t, Buffer.from('PK\x03\x04 this is a zip file'), /not a GGUF file/, 'a zip');
    await rejects(t, new Uint8Array(0), /not a GGUF file: it is only 0 bytes/, 'empty file');
    await rejects(t, Buffer.from('GG'), /not a GGUF file: it is only 2 bytes/, '2-byte file');
    const err = await readGguf(patched(buf, (b) => b.write('XXXX', 0))).catch((e) => e);
    t.equal(err.offset, 0, 'error carries the offset');
});

t.test('unsupported versions are rejected with the version number', async (t) => {
    const buf = await baseFile();
    await rejects(
        t,
        patched(buf, (b) => b.writeUInt32LE(1, 4)),
        /unsupported GGUF version 1/,
        'v1',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeUInt32LE(4, 4)),
        /unsupported GGUF version 4/,
        'v4',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeUInt32BE(3, 4)),
        /unsupported GGUF version .*big-endian/,
        'big-endian v3',
    );
    const v2 = await readGguf(patched(buf, (b) => b.writeUInt32LE(2, 4)));
    t.equal(v2.version, 2, 'v2 (same layout) is accepted');
});

t.test('a file truncated at any point before its end is rejected, never read past the end', async (t) => {
    const buf = await baseFile();
    let rejected = 0;
    const messages = new Set<string>();
    for (let cut = 0; cut < buf.length; cut++) {
        const err = await readGguf(buf.subarray(0, cut)).then(
            () => undefined,
            (e) => e,
        );
        if (err instanceof GgufFormatError) {
            rejected++;
            messages.add(err.message.replace(/\d+/g, 'N').split(':')[0]);
        } else {
            t.fail(`cut at ${cut}: ${err ? err.message : 'accepted'}`);
        }
    }
    t.equal(rejected, buf.length, `all ${buf.length} truncations rejected with GgufFormatError`);
    t.comment(`distinct messages: ${[...messages].join(' | ')}`);
});

t.test('truncations at named points give a "truncated" message that says what was being read', async (t) => {
    const buf = await baseFile();
    const cases: Array<[number, RegExp]> = [
        [6, /truncated: version needs 4 bytes/],
        [20, /truncated: metadata key\/value count needs 8 bytes/],
        // early cuts leave too few bytes for the counts themselves
        [
            lenOf(buf, 'general.architecture') + 12,
            /absurd tensor count 2: the 12 bytes after the header .*\(corrupt or truncated file\)/,
        ],
        [
            after(buf, 'test.array') + 4 + 4 + 8 + 6,
            /absurd array length 3 for key 'test.array' .*only 6 bytes remain .*truncated/,
        ],
        [
            after(buf, 'test.n') - 3,
            /absurd string length 6 for key of metadata entry 2: only 3 bytes remain .*truncated/,
        ],
        [after(buf, 'test.n') + 2, /truncated: value type of key 'test.n'/],
        [after(buf, 'test.n') + 4 + 2, /truncated: value of key 'test.n' needs 4 bytes/],
        [after(buf, 'tensor.a') + 4 + 3, /truncated: dimension 0 of tensor 'tensor.a'/],
        [after(buf, 'tensor.b') + 4 + 16 + 4 + 4, /truncated: data offset of tensor 'tensor.b'/],
    ];
    for (const [cut, re] of cases) {
        await rejects(t, buf.subarray(0, cut), re, `cut at ${cut}`);
    }
    // the header is complete, the data is not
    const h = await readGguf(buf);
    await rejects(
        t,
        buf.subarray(0, buf.length - 1),
        /tensor 'tensor.b' data \[128, 256\) runs past the end of the file/,
        'last byte missing',
    );
    await rejects(
        t,
        buf.subarray(0, h.dataOffset),
        /tensor 'tensor.a' data .* runs past the end/,
        'data section missing',
    );
});

t.test('absurd counts and lengths are rejected before anything is allocated', async (t) => {
    const buf = await baseFile();
    await rejects(
        t,
        patched(buf, (b) => b.writeBigInt64LE(1n << 40n, 8)),
        /absurd tensor count 1099511627776/,
        'huge tensor count',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeBigInt64LE(-1n, 8)),
        /absurd tensor count -1/,
        'negative tensor count',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeBigInt64LE(1n << 50n, 16)),
        /absurd metadata key\/value count/,
        'huge kv count',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeBigUInt64LE(1n << 40n, lenOf(buf, 'general.architecture'))),
        /absurd string length 1099511627776 for key of metadata entry 0: only \d+ bytes remain/,
        'huge key length',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeBigUInt64LE(0xffffffffffffffffn, lenOf(buf, 'testvalue'))),
        /absurd string length 18446744073709551615 for value of key 'general.architecture'/,
        'u64-max string length',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeBigUInt64LE(1n << 60n, after(buf, 'test.array') + 8)),
        /absurd array length 1152921504606846976 for key 'test.array'/,
        'huge array length',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeBigUInt64LE(1n << 40n, lenOf(buf, 'tensor.a'))),
        /absurd string length .* for name of tensor 0/,
        'huge tensor name length',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeBigInt64LE(1n << 62n, after(buf, 'tensor.b') + 4 + 8)),
        /absurd number of elements/,
        'dims whose product overflows',
    );
});

t.test('unknown value types and nested arrays are rejected', async (t) => {
    const buf = await baseFile();
    await rejects(
        t,
        patched(buf, (b) => b.writeInt32LE(13, after(buf, 'test.n'))),
        /unknown value type 13 for key 'test.n'/,
        'type 13',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeInt32LE(-1, after(buf, 'test.n'))),
        /unknown value type -1/,
        'type -1',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeInt32LE(GgufType.ARRAY, after(buf, 'test.array') + 4)),
        /nested arrays are not allowed: key 'test.array'/,
        'array of arrays',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeInt32LE(42, after(buf, 'test.array') + 4)),
        /unknown array element type 42 for key 'test.array'/,
        'bad element type',
    );
    // a bool that is neither 0 nor 1
    const w = new GgufWriter().addBool('flag', true);
    const bb = await w.toBuffer();
    await rejects(
        t,
        patched(bb, (b) => (b[after(bb, 'flag') + 4] = 2)),
        /invalid bool value 2/,
        'bool 2',
    );
});

t.test('tensor infos: n_dims outside 1..4, bad types, misaligned, overlapping or out-of-file offsets', async (t) => {
    const buf = await baseFile();
    const nd = after(buf, 'tensor.a');
    await rejects(
        t,
        patched(buf, (b) => b.writeUInt32LE(0, nd)),
        /tensor 'tensor.a' has invalid n_dims 0: must be between 1 and 4/,
        'n_dims 0',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeUInt32LE(5, nd)),
        /tensor 'tensor.a' has invalid n_dims 5/,
        'n_dims 5',
    );
    const typeA = nd + 4 + 8;
    await rejects(
        t,
        patched(buf, (b) => b.writeInt32LE(4, typeA)),
        /tensor 'tensor.a' has unknown ggml type 4/,
        'removed type 4',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeInt32LE(GgmlType.Q4_K, typeA)),
        /32 elements per row, not a multiple of the block size 256/,
        'row not a whole block',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeBigInt64LE(-3n, nd + 4)),
        /dimension 0 is negative/,
        'negative dim',
    );
    const offB = after(buf, 'tensor.b') + 4 + 16 + 4;
    await rejects(
        t,
        patched(buf, (b) => b.writeBigUInt64LE(132n, offB)),
        /tensor 'tensor.b' data offset 132 is not aligned to 32 bytes/,
        'misaligned offset',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeBigUInt64LE(96n, offB)),
        /tensor 'tensor.b' data at offset 96 overlaps tensor 'tensor.a' \[0, 128\)/,
        'overlap',
    );
    await rejects(
        t,
        patched(buf, (b) => b.writeBigUInt64LE(1024n, offB)),
        /tensor 'tensor.b' data \[1024, 1152\) runs past the end/,
        'past the end',
    );
    await rejects(
        t,
        patched(buf, (b) => b.write('tensor.a', after(buf, 'tensor.b') - 8)),
        /duplicate tensor name 'tensor.a'/,
        'duplicate name',
    );
});

t.test('duplicate keys and a bad general.alignment are rejected', async (t) => {
    const kb = await new GgufWriter().addU32('key.aa', 1).addU32('key.bb', 2).toBuffer();
    await rejects(
        t,
        patched(kb, (b) => b.write('key.aa', lenOf(kb, 'key.bb') + 8)),
        /duplicate metadata key 'key.aa'/,
        'duplicate key',
    );
    const w = new GgufWriter().addU32('general.alignment', 16);
    const ab = await w.toBuffer();
    await rejects(
        t,
        patched(ab, (b) => b.writeUInt32LE(24, after(ab, 'general.alignment') + 4)),
        /general.alignment 24 is not a power of 2/,
        'alignment 24',
    );
    await rejects(
        t,
        patched(ab, (b) => b.writeInt32LE(GgufType.INT32, after(ab, 'general.alignment'))),
        /'general.alignment' must be UINT32 but is INT32/,
        'alignment type',
    );
    t.equal((await readGguf(ab)).alignment, 16, 'alignment 16 is used');
});

t.test('readGgufFile reads only the header of a large file, with positioned reads', async (t) => {
    // a 3 GiB sparse file whose only tensor claims 3 GiB of data: write the header, then extend
    const file = path.join(tmp, 'big.gguf');
    const nb = 3 * 2 ** 30;
    const big = new GgufWriter();
    big.addString('general.architecture', 'big');
    big.addTensor('huge', [nb / 4], GgmlType.F32, () => new Float32Array(0)); // data never generated
    const first = (await big.chunks().next()).value as Uint8Array;
    const fh = await open(file, 'w');
    await fh.write(first, 0, first.length, 0);
    await fh.truncate(first.length + nb);
    await fh.close();
    const stats = { reads: 0, bytesRead: 0 };
    const h = await readGgufFile(file, { stats });
    t.equal(h.tensors[0].nbytes, nb);
    t.equal(h.fileSize, first.length + nb);
    t.ok(stats.bytesRead <= 1 << 20, `read ${stats.bytesRead} bytes in ${stats.reads} reads, not the 3 GiB file`);

    const s2 = { reads: 0, bytesRead: 0 };
    await readGgufFile(file, { chunkSize: 4096, stats: s2 });
    t.ok(s2.bytesRead <= 4096 * 2, `a 4 KiB window reads ${s2.bytesRead} bytes`);
});

t.test('readGgufFile errors name the file; a directory or missing file is refused', async (t) => {
    const file = path.join(tmp, 'bad.gguf');
    writeFileSync(file, 'not gguf at all');
    const err = await readGgufFile(file).catch((e) => e);
    t.type(err, GgufFormatError);
    t.match(err.message, /not a GGUF file/);
    t.match(err.message, new RegExp(`in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'message names the file');
    t.equal(err.path, file);
    await t.rejects(readGgufFile(tmp), /not a regular file|EISDIR/);
    await t.rejects(readGgufFile(path.join(tmp, 'missing.gguf')), { code: 'ENOENT' });
});

t.test('maxArrayValues keeps a prefix of long arrays but validates and reports the full length', async (t) => {
    const w = new GgufWriter();
    w.addArray(
        'strs',
        GgufType.STRING,
        Array.from({ length: 1000 }, (_, i) => `tok${i}`),
    );
    w.addArray(
        'nums',
        GgufType.FLOAT32,
        Array.from({ length: 1000 }, (_, i) => i),
    );
    w.addU32('after', 5);
    const h = await readGguf(await w.toBuffer(), { maxArrayValues: 3 });
    const s = h.metadata.get('strs')!;
    t.equal(s.type, GgufType.ARRAY);
    if (s.type === GgufType.ARRAY) {
        t.same(s.value, ['tok0', 'tok1', 'tok2']);
        t.equal(s.length, 1000);
        t.equal(s.truncated, true);
    }
    t.equal(h.metadata.get('nums')?.value.toString(), '0,1,2');
    t.equal(h.metadata.get('after')?.value, 5, 'parsing continues after skipped values');
});

t.test("reads a file written by ggml's own GGUF writer exactly as ggml's reader does", async (t) => {
    const file = here('./fixtures/gguf/ggml-written.gguf');
    const h = await readGgufFile(file);
    // what gguf_init_from_file reported for this file (see fixtures/gguf/README.md)
    t.equal(h.version, 3);
    t.equal(h.alignment, 32);
    t.equal(h.dataOffset, 672);
    const expected: Array<[string, number, unknown]> = [
        ['k.u8', GgufType.UINT8, 200],
        ['k.i8', GgufType.INT8, -100],
        ['k.u16', GgufType.UINT16, 60000],
        ['k.i16', GgufType.INT16, -30000],
        ['k.u32', GgufType.UINT32, 4000000000],
        ['k.i32', GgufType.INT32, -2000000000],
        ['k.f32', GgufType.FLOAT32, Math.fround(0.1)],
        ['k.u64', GgufType.UINT64, 18000000000000000000n],
        ['k.i64', GgufType.INT64, -9000000000000000000n],
        ['k.f64', GgufType.FLOAT64, 0.1],
        ['k.bool', GgufType.BOOL, true],
        ['k.str', GgufType.STRING, 'hello ▁ world'],
        ['k.arr_i32', GgufType.ARRAY, [1, -2, 3, -4]],
        ['k.arr_f32', GgufType.ARRAY, [0.5, -1.25, Math.fround(3e-7)]],
        ['k.arr_str', GgufType.ARRAY, ['a', 'Ġthe', '<0x0A>']],
    ];
    t.same(
        [...h.metadata.keys()],
        expected.map((e) => e[0]),
        'keys in file order',
    );
    for (const [k, type, value] of expected) {
        t.equal(h.metadata.get(k)?.type, type, `${k} type`);
        t.same(h.metadata.get(k)?.value, value, `${k} value`);
    }
    t.same(
        h.tensors.map((x) => [x.name, x.typeName, x.dims, x.offset, x.nbytes]),
        [
            ['t.f32', 'F32', [3, 5], 0, 60],
            ['t.f16', 'F16', [4, 2, 3], 64, 48],
            ['t.q8_0', 'Q8_0', [64, 2], 128, 136],
            ['t.q4_k', 'Q4_K', [256, 1, 1, 2], 288, 288],
        ],
    );
    const byName = new Map(h.tensors.map((x) => [x.name, x]));
    t.same(
        [...decodeF32(await readTensorData(file, byName.get('t.f32')!))],
        Array.from({ length: 15 }, (_, i) => i * 0.5),
    );
    t.same(
        [...decodeF16(await readTensorData(file, byName.get('t.f16')!))],
        Array.from({ length: 24 }, (_, i) => i - 10),
    );
    // ggml_quantize_chunk(Q8_0) of src[i] = (i % 17) * 0.3f - 2.0f, computed in float32
    const src = Float32Array.from({ length: 128 }, (_, i) => Math.fround(Math.fround((i % 17) * Math.fround(0.3)) - 2));
    t.same(
        await readTensorData(file, byName.get('t.q8_0')!),
        Buffer.from(quantizeQ8_0(src)),
        "ggml's Q8_0 bytes = quantizeQ8_0",
    );
    t.ok((await readTensorData(file, byName.get('t.q4_k')!)).every((b) => b === 7));
});

const VOCABS = here('../deps/llama.cpp/models');
const thirdParty: Array<[string, { model: string; pre?: string; tokens: number; merges?: number; version?: number }]> =
    [
        ['ggml-vocab-llama-spm.gguf', { model: 'llama', pre: 'default', tokens: 32000 }],
        ['ggml-vocab-qwen2.gguf', { model: 'gpt2', pre: 'qwen2', tokens: 151936, merges: 151387 }],
        ['ggml-vocab-gpt-2.gguf', { model: 'gpt2', pre: 'gpt-2', tokens: 50257, merges: 50000 }],
        ['ggml-vocab-aquila.gguf', { model: 'gpt2', tokens: 100008, merges: 99743, version: 2 }],
    ];
for (const [name, exp] of thirdParty) {
    const file = path.join(VOCABS, name);
    const skip = existsSync(file) ? false : `${file} not present`;
    t.test(`reads llama.cpp's own ${name} (third-party writer): vocab counts as expected`, { skip }, async (t) => {
        const h = await readGgufFile(file);
        t.equal(h.version, exp.version ?? 3);
        t.equal(h.metadata.get('tokenizer.ggml.model')?.value, exp.model);
        if (exp.pre) t.equal(h.metadata.get('tokenizer.ggml.pre')?.value, exp.pre);
        const tokens = h.metadata.get('tokenizer.ggml.tokens')!;
        t.equal(tokens.type === GgufType.ARRAY && tokens.length, exp.tokens, 'token count');
        const types = h.metadata.get('tokenizer.ggml.token_type');
        t.equal(types?.type === GgufType.ARRAY && types.length, exp.tokens, 'one token type per token');
        if (exp.merges) {
            const m = h.metadata.get('tokenizer.ggml.merges')!;
            t.equal(m.type === GgufType.ARRAY && m.length, exp.merges, 'merge count');
        }
        if (exp.model === 'llama' && tokens.type === GgufType.ARRAY) {
            t.equal(tokens.value[0], '<unk>');
            t.equal(tokens.value[3], '<0x00>', 'byte tokens follow the 3 specials');
        }
        t.equal(h.tensors.length, 0, 'vocab-only file');
    });
}
