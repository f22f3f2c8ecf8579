// The converter marks exactly Hugging Face's added tokens (special -> CONTROL, else USER_DEFINED; every other
// token NORMAL, "</s>" included when it is an ordinary BPE token) and records tokenizer.json's Unicode normalizer.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadBpeVocab, loadSpmVocab } from '../gguf/convert/index.js';
import { TOKEN_TYPE } from '../gguf/metadata.js';

function bpeFolder(dir: string, normalizer: unknown): string {
    const vocab: Record<string, number> = { a: 0, b: 1, '</s>': 2, '<': 3, '>': 4 };
    writeFileSync(
        join(dir, 'tokenizer.json'),
        JSON.stringify({
            model: { type: 'BPE', vocab, merges: [] },
            normalizer,
            added_tokens: [
                { id: 5, content: '<|im_end|>', special: true },
                { id: 6, content: '<|fim_prefix|>', special: false },
                { id: 7, content: '<think>', special: false },
            ],
        }),
    );
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|im_end|>' }));
    return dir;
}

t.test('BPE: added tokens typed by their HF special flag only, "</s>" stays NORMAL, NFC recorded', async (t) => {
    const dir = bpeFolder(t.testdir(), { type: 'NFC' });
    const v = await loadBpeVocab(dir, 10, {}, 'qwen2');
    t.equal(v.tokenTypes[2], TOKEN_TYPE.NORMAL, '</s> (an ordinary token)');
    t.equal(v.tokenTypes[5], TOKEN_TYPE.CONTROL, '<|im_end|> (special)');
    t.equal(
        v.tokenTypes[6],
        TOKEN_TYPE.USER_DEFINED,
        "<|fim_prefix|> (not special, though llama.cpp's converter makes it CONTROL)",
    );
    t.equal(v.tokenTypes[7], TOKEN_TYPE.USER_DEFINED, '<think> (not special)');
    t.equal(v.tokenTypes[8], TOKEN_TYPE.UNUSED, 'padding');
    t.equal(v.normalizer, 'NFC');
});

t.test(
    'the normalizer: none without one, inside a Sequence found, one llama.cpp cannot reproduce refused',
    async (t) => {
        t.equal((await loadBpeVocab(bpeFolder(t.testdir(), null), 10, {}, 'qwen2')).normalizer, 'none');
        const seq = { type: 'Sequence', normalizers: [{ type: 'NFKC' }] };
        t.equal((await loadBpeVocab(bpeFolder(t.testdir(), seq), 10, {}, 'qwen2')).normalizer, 'NFKC');
        await t.rejects(loadBpeVocab(bpeFolder(t.testdir(), { type: 'Lowercase' }), 10, {}, 'qwen2'), {
            message: /normalizer "Lowercase"/,
        });
    },
);

t.test("SentencePiece's Prepend + Replace normalizer is llama.cpp's own SPM behaviour: none recorded", async (t) => {
    const dir = t.testdir();
    const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2, '▁a': 3 };
    for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 4 + b;
    writeFileSync(
        join(dir, 'tokenizer.json'),
        JSON.stringify({
            model: { type: 'BPE', vocab, merges: [], byte_fallback: true },
            normalizer: {
                type: 'Sequence',
                normalizers: [
                    { type: 'Prepend', prepend: '▁' },
                    { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
                ],
            },
            added_tokens: [
                { id: 0, content: '<unk>', special: true },
                { id: 1, content: '<s>', special: true },
                { id: 2, content: '</s>', special: true },
                { id: 260, content: '<image>', special: true },
                { id: 261, content: '<pad>', special: false },
            ],
        }),
    );
    const v = await loadSpmVocab(dir, 264, {});
    t.equal(v.normalizer, 'none');
    t.equal(v.tokenTypes[2], TOKEN_TYPE.CONTROL, '</s> is an added special token of LLaMA');
    t.equal(v.tokenTypes[260], TOKEN_TYPE.CONTROL);
    t.equal(v.tokenTypes[261], TOKEN_TYPE.USER_DEFINED, "<pad> not special (llama.cpp's converter: CONTROL by look)");
});
