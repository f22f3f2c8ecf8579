// registerConvert (lib/cli/commands/convert.ts) on its own commander program, and the streaming
// safetensors reader's checks (shards, dtypes, broken headers).
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import t from 'tap';

import { SafetensorsModel, parseSentencePieceModel } from '../gguf/convert/index.js';
import { encodeSentencePieceModel, makeTinyHfFolder, writeSafetensors } from '../gguf/synthetic/hf/tiny-hf.js';
import { readGgufFile } from '../gguf/index.js';
import { registerConvert } from '../lib/cli/commands/convert.js';
import { tempDir } from './helpers/temp-dir.js';

const tmp = tempDir('convert-cli-test-');

async function cli(args: string[]): Promise<{ out: string[]; err?: Error }> {
    const program = new Command('llavaguard').exitOverride();
    registerConvert(program);
    const out: string[] = [];
    const log = console.log;
    const elog = console.error;
    console.log = (s: string) => void out.push(s);
    console.error = () => undefined;
    try {
        await program.parseAsync(['node', 'llavaguard', ...args]);
        return { out };
    } catch (err) {
        return { out, err: err as Error };
    } finally {
        console.log = log;
        console.error = elog;
    }
}

t.test('convert HF_DIR --out DIR --type q8_0 writes the pair and says so', async (t) => {
    const hf = path.join(tmp, 'LlavaGuard-v1.2-0.5B-OV-hf');
    await makeTinyHfFolder({ family: 'onevision', dir: hf });
    const out = path.join(tmp, 'out1');
    const r = await cli(['convert', hf, '--out', out, '--type', 'q8_0', '--name', 'tiny OV']);
    t.error(r.err);
    t.match(
        r.out.join('\n'),
        /LlavaOnevisionForConditionalGeneration \(qwen2, LlavaGuard v1\.2\): wrote .*model-q8_0\.gguf and .*mmproj-q8_0\.gguf/,
    );
    t.same(readdirSync(out).sort(), ['mmproj-q8_0.gguf', 'model-q8_0.gguf']);
    const h = await readGgufFile(path.join(out, 'model-q8_0.gguf'));
    t.equal(h.metadata.get('general.name')?.value, 'tiny OV');
});

t.test('--vocab-only, bad --type, missing folder', async (t) => {
    const hf = path.join(tmp, 'llava');
    await makeTinyHfFolder({ family: 'llava15', dir: hf });
    const out = path.join(tmp, 'out2');
    t.error((await cli(['convert', hf, '--out', out, '--vocab-only', '--quiet'])).err);
    t.same(readdirSync(out), ['vocab.gguf']);
    t.match(
        (await cli(['convert', hf, '--out', out, '--type', 'q4_0'])).err?.message,
        /--type must be one of f32, f16, q8_0/,
    );
    t.match((await cli(['convert', path.join(tmp, 'nope'), '--out', out])).err?.message, /cannot read .*config\.json/);
});

t.test('safetensors: shards, dtypes and broken files', async (t) => {
    const dir = path.join(tmp, 'st');
    const src = await makeTinyHfFolder({ family: 'llava15', dir, dtype: 'BF16', shards: 3 });
    const st = await SafetensorsModel.open(dir);
    t.equal(st.tensors.size, src.size, 'all tensors of the 3 shards');
    const name = 'multi_modal_projector.linear_2.bias';
    const got = await st.readF32(name);
    const want = src.get(name)!.data;
    t.ok(
        got.every((v, i) => Math.abs(v - want[i]!) <= Math.abs(want[i]!) / 128),
        'BF16 decoded (within BF16 rounding)',
    );
    await st.close();

    const one = path.join(tmp, 'one');
    rmSync(one, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(one);
    const data = Float32Array.from([1, -2.5, 3.25, 65504]);
    await writeSafetensors(
        path.join(one, 'model.safetensors'),
        new Map([
            ['a', { shape: [2, 2], data, dtype: 'F16' as const }],
            ['b', { shape: [4], data, dtype: 'F32' as const }],
        ]),
    );
    const s1 = await SafetensorsModel.open(one);
    t.same(Array.from(await s1.readF32('a')), Array.from(data), 'F16 exact');
    t.same(Array.from(await s1.readF32('b')), Array.from(data), 'F32 exact');
    await t.rejects(s1.readF32('c'), /missing tensor 'c'/);
    await s1.close();

    writeFileSync(
        path.join(one, 'model.safetensors'),
        Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{x: ')]),
    );
    await t.rejects(SafetensorsModel.open(one), /safetensors header is not JSON/);
    const hdr = JSON.stringify({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } });
    writeFileSync(
        path.join(one, 'model.safetensors'),
        Buffer.concat([Buffer.from([hdr.length, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(hdr), Buffer.alloc(8)]),
    );
    const s2 = await SafetensorsModel.open(one);
    await t.rejects(s2.readF32('w'), /dtype I64 is not supported/);
    await s2.close();
    writeFileSync(
        path.join(dir, 'model.safetensors.index.json'),
        JSON.stringify({ weight_map: { ghost: 'model-00009-of-00003.safetensors' } }),
    );
    await t.rejects(SafetensorsModel.open(dir), /cannot open .*model-00009-of-00003\.safetensors/);
});

t.test('SentencePiece ModelProto: pieces parsed, other fields (trainer_spec, normalizer_spec) skipped', async (t) => {
    const pieces = [
        { piece: '<unk>', score: 0, type: 2 },
        { piece: '<s>', score: 0, type: 3 },
        { piece: '\u2581the', score: -1.5, type: 1 },
        { piece: '<0x0A>', score: 0, type: 6 },
        { piece: 'é🚀', score: -1234.25, type: 4 },
    ];
    const body = encodeSentencePieceModel(pieces);
    // field 2 (trainer_spec) and 3 (normalizer_spec) as LEN messages with a 2-byte length, a varint
    // field 5 and a fixed64 field 6: real files carry these after the pieces
    const spec = Buffer.alloc(200, 0x08); // (varint fields "1: 8", repeated)
    const extra = Buffer.concat([
        Buffer.from([0x12, 0xc8, 0x01]),
        spec,
        Buffer.from([0x1a, 0x02, 0x08, 0x01]),
        Buffer.from([0x28, 0x96, 0x01]),
        Buffer.from([0x31, 1, 2, 3, 4, 5, 6, 7, 8]),
    ]);
    const parsed = parseSentencePieceModel(Buffer.concat([body, extra]));
    t.same(parsed, pieces);
    t.throws(() => parseSentencePieceModel(Buffer.from([0x12, 0x05, 0x08])), /no pieces|truncated/);
});
