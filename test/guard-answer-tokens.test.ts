import t from 'tap';
import { answerTokenizer } from '../lib/guard/answer-tokenizer.js';
import { closeAllModels, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

type Model = Awaited<ReturnType<typeof tinyModel>>;
const tokenize = (model: Model, text: string) =>
    Array.from(model.tokenize(text, { addSpecial: false, parseSpecial: false }));
// SentencePiece: a text's start takes the dummy prefix ("▁{"); after a newline "{" is its own token
const braces = (model: Model) => ({ spaced: tokenize(model, '{')[0]!, bare: tokenize(model, 'x\n{').at(-1)! });

t.test(
    'after Vicuna\'s "ASSISTANT:" a SentencePiece answer starts with "▁{", as "ASSISTANT: {" tokenizes',
    async (t) => {
        const model = await tinyModel('llava15');
        const { spaced, bare } = braces(model);
        t.not(spaced, bare, 'the vocabulary has both');
        const tokens = answerTokenizer(model, 'Is it safe? ASSISTANT:', ' ')('{\n    "rating": "Safe"');
        t.equal(tokens[0], spaced);
        t.same(Array.from(tokens), tokenize(model, '{\n    "rating": "Safe"'));
    },
);

t.test(
    'after a newline a SentencePiece answer starts with "{": tokenized alone it would take a "▁" it never had',
    async (t) => {
        const model = await tinyModel('llava15');
        const answer = '{\n    "rating": "Safe"';
        const { spaced, bare } = braces(model);
        const tokens = answerTokenizer(model, 'Is it safe?\nassistant\n', '')(answer);
        t.equal(tokens[0], bare);
        t.equal(model.detokenize(Array.from(tokens)), answer);
        t.equal(tokenize(model, answer)[0], spaced, 'alone: the dummy prefix of a text start');
    },
);

t.test('after ChatML\'s "<|im_start|>assistant\\n" a byte-level BPE answer is its own tokens', async (t) => {
    const model = await tinyModel('onevision');
    const answer = '{\n    "rating": "Unsafe"';
    const tokens = answerTokenizer(model, '<|im_end|>\n<|im_start|>assistant\n', '')(answer);
    t.same(Array.from(tokens), Array.from(model.tokenize(answer, { addSpecial: false, parseSpecial: false })));
    t.equal(model.detokenize(Array.from(tokens)), answer);
});

t.test("where the prompt's last token would merge with the answer, the answer is tokenized alone", async (t) => {
    const model = await tinyModel('onevision');
    // "rat" + "ing" merge into one token of the tiny vocabulary: no token boundary after "rat"
    const whole = model.tokenize('rating', { addSpecial: false, parseSpecial: false });
    t.equal(whole.length, 1, 'the vocabulary has "rating"');
    const tokens = answerTokenizer(model, 'the rat', '')('ing');
    t.same(Array.from(tokens), Array.from(model.tokenize('ing', { addSpecial: false, parseSpecial: false })));
});
