// The tiny test models' text halves: the hparams and tensors llama.cpp loads for their arch, and their vocabularies
// (SPM for llava15, GPT-2 BPE for onevision).
import t from 'tap';

import { GgufType, TINY_FAMILIES, gpt2ByteOrder, makeTestModel, readGgufFile, type TinyFamily } from '../gguf/index.js';
import { arr, typeOf, val } from './helpers/gguf-fields.js';
import { freshDirs } from './helpers/temp-dir.js';

const FAMILIES: TinyFamily[] = ['llava15', 'onevision'];
const fresh = freshDirs('gguf-tiny-test-');

t.test('text models hold the hparams llama.cpp requires, with the exact value types it checks', async (t) => {
    for (const family of FAMILIES) {
        const spec = TINY_FAMILIES[family].text;
        const h = await readGgufFile((await makeTestModel({ family, outDir: fresh() })).model);
        const a = spec.arch;
        const u32 = [
            [`${a}.context_length`, spec.contextLength],
            [`${a}.embedding_length`, spec.nEmbd],
            [`${a}.block_count`, spec.nLayer],
            [`${a}.feed_forward_length`, spec.nFf],
            [`${a}.attention.head_count`, spec.nHead],
            [`${a}.attention.head_count_kv`, spec.nHeadKv],
            ['tokenizer.ggml.bos_token_id', undefined],
            ['tokenizer.ggml.eos_token_id', undefined],
        ] as const;
        for (const [k, expected] of u32) {
            t.equal(typeOf(h, k), GgufType.UINT32, `${family}: ${k} is UINT32`);
            if (expected !== undefined) t.equal(val(h, k), expected, `${family}: ${k} = ${expected}`);
        }
        t.equal(typeOf(h, `${a}.attention.layer_norm_rms_epsilon`), GgufType.FLOAT32);
        t.ok((val(h, `${a}.context_length`) as number) >= 4096, 'context_length >= 4096');
        t.equal(spec.nEmbd / spec.nHead, 64, 'head_dim 64');
        t.equal(arr(h, 'tokenizer.ggml.token_type').elemType, GgufType.INT32, 'token_type is INT32[]');
        t.match(val(h, 'tokenizer.chat_template'), family === 'llava15' ? /USER: .*ASSISTANT: /s : /<\|im_start\|>/);
    }
    t.equal(TINY_FAMILIES.llava15.text.nEmbd, 128);
    t.equal(TINY_FAMILIES.onevision.text.nEmbd, 192);
    t.equal(TINY_FAMILIES.onevision.text.nHeadKv, 1);
});

t.test(
    'text models contain exactly the tensors llama.cpp loads for their arch (an extra one fails a load)',
    async (t) => {
        for (const family of FAMILIES) {
            const spec = TINY_FAMILIES[family].text;
            const h = await readGgufFile((await makeTestModel({ family, outDir: fresh() })).model);
            const nVocab = arr(h, 'tokenizer.ggml.tokens').value.length;
            const expected = new Map<string, number[]>([
                ['token_embd.weight', [spec.nEmbd, nVocab]],
                ['output_norm.weight', [spec.nEmbd]],
            ]);
            if (!spec.tiedEmbeddings) expected.set('output.weight', [spec.nEmbd, nVocab]);
            const kv = (spec.nEmbd / spec.nHead) * spec.nHeadKv;
            for (let i = 0; i < spec.nLayer; i++) {
                const p = `blk.${i}`;
                expected.set(`${p}.attn_norm.weight`, [spec.nEmbd]);
                expected.set(`${p}.attn_q.weight`, [spec.nEmbd, spec.nEmbd]);
                expected.set(`${p}.attn_k.weight`, [spec.nEmbd, kv]);
                expected.set(`${p}.attn_v.weight`, [spec.nEmbd, kv]);
                if (spec.qkvBias) {
                    expected.set(`${p}.attn_q.bias`, [spec.nEmbd]);
                    expected.set(`${p}.attn_k.bias`, [kv]);
                    expected.set(`${p}.attn_v.bias`, [kv]);
                }
                expected.set(`${p}.attn_output.weight`, [spec.nEmbd, spec.nEmbd]);
                expected.set(`${p}.ffn_norm.weight`, [spec.nEmbd]);
                expected.set(`${p}.ffn_gate.weight`, [spec.nEmbd, spec.nFf]);
                expected.set(`${p}.ffn_up.weight`, [spec.nEmbd, spec.nFf]);
                expected.set(`${p}.ffn_down.weight`, [spec.nFf, spec.nEmbd]);
            }
            t.same(new Set(h.tensors.map((x) => x.name)), new Set(expected.keys()), `${family}: tensor set`);
            for (const x of h.tensors) t.same(x.dims, expected.get(x.name), `${family}: ${x.name} dims`);
        }
    },
);

t.test('llava15 SPM vocab: <unk> <s> </s>, all 256 byte tokens, unique pieces with scores', async (t) => {
    const h = await readGgufFile((await makeTestModel({ family: 'llava15', outDir: fresh() })).model);
    const tokens = arr(h, 'tokenizer.ggml.tokens').value as string[];
    const types = arr(h, 'tokenizer.ggml.token_type').value as number[];
    const scores = arr(h, 'tokenizer.ggml.scores');
    t.equal(val(h, 'tokenizer.ggml.model'), 'llama');
    t.same(tokens.slice(0, 3), ['<unk>', '<s>', '</s>']);
    t.same(types.slice(0, 3), [2, 3, 3]);
    for (let b = 0; b < 256; b++) {
        const id = 3 + b;
        if (tokens[id] !== `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>` || types[id] !== 6) {
            t.fail(`byte token ${b} wrong: ${tokens[id]} type ${types[id]}`);
        }
    }
    t.equal(new Set(tokens).size, tokens.length, 'no duplicate tokens');
    t.ok(tokens.length - 259 >= 200, `${tokens.length - 259} normal pieces`);
    t.equal(scores.elemType, GgufType.FLOAT32);
    t.equal(scores.value.length, tokens.length);
    for (const p of ['▁', '{', '}', '"', ':', ',', '{"', '":', '▁rating', 'Unsafe', '▁Safe', 'a', 'Z', '7']) {
        t.ok(tokens.includes(p), `has piece ${JSON.stringify(p)}`);
    }
    // every multi-character normal piece = a shorter piece + one character (reachable by SPM merges)
    const set = new Set(tokens);
    const unreachable = tokens.filter(
        (x, i) => types[i] === 1 && [...x].length > 1 && !set.has([...x].slice(0, -1).join('')),
    );
    t.same(unreachable, [], 'all pieces reachable');
    t.equal(val(h, 'tokenizer.ggml.bos_token_id'), 1);
    t.equal(val(h, 'tokenizer.ggml.eos_token_id'), 2);
    t.ok(Math.max(...tokens.map((x) => Buffer.byteLength(x))) <= 16, 'bounded piece length');
});

t.test(
    'onevision BPE vocab: GPT-2 byte tokens for all 256 bytes, consistent merges, ChatML control tokens',
    async (t) => {
        const h = await readGgufFile((await makeTestModel({ family: 'onevision', outDir: fresh() })).model);
        const tokens = arr(h, 'tokenizer.ggml.tokens').value as string[];
        const types = arr(h, 'tokenizer.ggml.token_type').value as number[];
        const merges = arr(h, 'tokenizer.ggml.merges').value as string[];
        t.equal(val(h, 'tokenizer.ggml.model'), 'gpt2');
        t.equal(val(h, 'tokenizer.ggml.pre'), 'qwen2');
        const order = gpt2ByteOrder();
        t.same(
            tokens.slice(0, 256),
            order.map(([, c]) => c),
            'first 256 tokens are the byte chars in GPT-2 order',
        );
        t.equal(new Set(order.map(([b]) => b)).size, 256, 'covering every byte');
        t.equal(tokens[order.findIndex(([b]) => b === 0x20)], 'Ġ');
        t.equal(tokens[order.findIndex(([b]) => b === 0x0a)], 'Ċ');
        t.equal(new Set(tokens).size, tokens.length, 'no duplicate tokens');
        t.ok(merges.length >= 200, `${merges.length} merges`);
        const set = new Set(tokens);
        const bad = merges.filter((m) => {
            const [l, r, ...rest] = m.split(' ');
            return rest.length > 0 || !set.has(l) || !set.has(r) || !set.has(l + r);
        });
        t.same(bad, [], 'every merge joins two tokens into a token');
        const id = (s: string) => tokens.indexOf(s);
        for (const s of ['<|endoftext|>', '<|im_start|>', '<|im_end|>'])
            t.equal(types[id(s)], 3, `${s} is a control token`);
        t.equal(val(h, 'tokenizer.ggml.eos_token_id'), id('<|im_end|>'), 'eos = <|im_end|>');
        t.equal(val(h, 'tokenizer.ggml.bos_token_id'), id('<|endoftext|>'));
        t.equal(val(h, 'tokenizer.ggml.add_bos_token'), false);
        for (const p of ['Ġrating', 'Unsafe', '{"', '":', 'Ġ"']) t.ok(set.has(p), `has ${p}`);
    },
);
