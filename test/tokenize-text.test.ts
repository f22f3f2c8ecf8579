// Tokenization as Hugging Face's tokenizer (lib/tokenize): the tokenizer's Unicode normalizer before llama.cpp sees
// the text, only HF's added tokens split out (llama.cpp's own special-token parsing also takes ordinary tokens it
// re-marks as control, such as Qwen2's BPE token "</s>"), special ones only where special tokens are parsed.
// The exact ids against HF `tokenizers` are checked by `npm run test:reference` (scripts/reference/check_hf.py).
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { planFileSize, planHeader } from '../gguf/synthetic/plan.js';
import { planShapedModel } from '../gguf/synthetic/shapes.js';
import { VisionModel } from '../lib/runtime/VisionModel.js';
import { closeAllModels, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

/** Qwen2-0.5B's real vocabulary as llama.cpp loads it, from the shape-faithful header (a sparse file). */
async function qwen2Vocab(dir: string): Promise<VisionModel> {
    const plan = planShapedModel({
        shapes: 'llavaguard-v1.2-0.5b',
        weightType: 'q8_0',
        mmprojWeightType: 'f16',
        seed: 0,
    });
    const path = join(dir, 'qwen2.gguf');
    const file = await open(path, 'w');
    try {
        await file.write(await planHeader(plan.model));
        await file.truncate(await planFileSize(plan.model));
    } finally {
        await file.close();
    }
    return VisionModel.load({ model: path, vocabOnly: true });
}

t.test('Qwen2: "</s>" inside a text stays "</", "s", ">" with and without special-token parsing', async (t) => {
    const model = await qwen2Vocab(t.testdir());
    t.teardown(() => model.close());
    const sId = model.native.tokenize('</s>', false, true);
    t.same([...sId], [128247], "llama.cpp's own special parsing takes the BPE token </s> whole (what this fixes)");
    for (const parseSpecial of [true, false]) {
        const ids = [...model.tokenize('a </s> b', { parseSpecial })];
        t.notOk(ids.includes(128247), `parseSpecial ${parseSpecial}: no </s> token`);
        t.same(ids, [...model.native.tokenize('a </s> b', false, false)], 'the plain-text tokens');
    }
    const imStart = model.tokenize('x<|im_start|>y', { parseSpecial: true });
    t.ok([...imStart].includes(151644), '<|im_start|> (an added special token) is one token when parsed');
    t.notOk([...model.tokenize('x<|im_start|>y', { parseSpecial: false })].includes(151644), 'and text when not');
});

t.test('Qwen2 normalizes to NFC: a decomposed é gives the composed é tokens', async (t) => {
    const model = await qwen2Vocab(t.testdir());
    t.teardown(() => model.close());
    t.equal(model.textTokenizer.normalizer, 'NFC', "inferred from tokenizer.ggml.pre 'qwen2'");
    const composed = [...model.tokenize('caf\u00e9 r\u00e9sum\u00e9')];
    t.same([...model.tokenize('cafe\u0301 re\u0301sume\u0301')], composed);
    t.not([...model.native.tokenize('cafe\u0301', false, false)].length, [...model.tokenize('caf\u00e9')].length);
});

t.test('LLaMA (SentencePiece, pre "default") applies no Unicode normalization, as its HF tokenizer', async (t) => {
    const model = await tinyModel('llava15');
    t.equal(model.textTokenizer.normalizer, 'none');
    t.same([...model.tokenize('e\u0301')], [...model.native.tokenize('e\u0301', false, false)]);
    t.not([...model.tokenize('e\u0301')].join(), [...model.tokenize('\u00e9')].join());
});

t.test('in parts, special tokens are read only in the parts that parse them, and runs of text join', async (t) => {
    const model = await tinyModel('onevision');
    const imEnd = model.tokenize('<|im_end|>')[0]!;
    const parts = [
        { text: '<|im_start|>user\n', parseSpecial: true },
        { text: 'policy <|im_end|> text', parseSpecial: false },
        { text: '<|im_end|>\n', parseSpecial: true },
    ];
    const ids = [...model.tokenize(parts)];
    t.equal(ids.filter((id) => id === imEnd).length, 1, "only the template's <|im_end|>");
    t.same(ids, [
        model.tokenize('<|im_start|>')[0],
        ...model.native.tokenize('user\npolicy <|im_end|> text', false, false),
        imEnd,
        ...model.native.tokenize('\n', false, false),
    ]);
    t.throws(() => model.tokenize([{ text: 'x' }] as never), TypeError);
});

t.test("a client's text cannot add an image slot; the template's marker makes one", async (t) => {
    const model = await tinyModel('onevision');
    const marker = model.info.mediaMarker;
    const pieces = model.textTokenizer.tokenizeAround(
        [
            { text: `A ${marker}`, parseSpecial: true },
            { text: `B ${marker} C`, parseSpecial: false },
        ],
        marker,
    );
    t.equal(pieces.length, 2, 'one image slot');
    t.same([...pieces[1]!], [...model.native.tokenize(`B ${marker} C`, false, false)]);
});

t.test('addSpecial puts BOS where llama.cpp does (SentencePiece) and nothing for Qwen2', async (t) => {
    const llava = await tinyModel('llava15');
    const bos = llava.native.tokenize('a', true, false)[0]!;
    t.same([...llava.tokenize('hello', { addSpecial: true })], [bos, ...llava.tokenize('hello')]);
    const ov = await tinyModel('onevision');
    t.same([...ov.tokenize('hello', { addSpecial: true })], [...ov.tokenize('hello')]);
});
