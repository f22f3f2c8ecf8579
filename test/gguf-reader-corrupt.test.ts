// The GGUF reader refuses corrupt headers with a GgufFormatError that says what is wrong and where.
import t from 'tap';

import { GgmlType, GgufType, GgufWriter, readGguf } from '../gguf/index.js';
import { after, baseFile, lenOf, patched, rejects } from './helpers/gguf-patch.js';

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
