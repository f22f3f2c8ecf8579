// The GGUF reader on good files: the header's fields, positioned reads of large files, long arrays, and files
// written by ggml and llama.cpp themselves. Corrupt files: gguf-reader-corrupt and gguf-reader-truncated.
import { existsSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

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
import { after, baseFile } from './helpers/gguf-patch.js';
import { tempDir } from './helpers/temp-dir.js';

const tmp = tempDir('gguf-reader-test-');
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

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
