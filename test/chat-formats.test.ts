import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
    CHAT_FORMATS,
    CHAT_FORMAT_IDS,
    MTMD_MEDIA_MARKER,
    defaultPolicyVersionFor,
    getChatFormat,
    selectChatFormat,
} from '../lib/chat/index.js';
import { Policy } from '../lib/policy/index.js';

// Expected layouts are written by hand in test/fixtures/chat/ (no trailing newline except where
// the layout itself ends in one), with this stand-in policy text:
const POLICY = 'Check the image.\nAnswer in JSON.';
const expected = (id: string) =>
    readFileSync(fileURLToPath(new URL(`./fixtures/chat/${id}.txt`, import.meta.url)), 'utf8');

for (const id of CHAT_FORMAT_IDS) {
    t.test(`${id} renders the trained layout exactly`, async (t) => {
        t.equal(CHAT_FORMATS[id].render(POLICY, { imageMarker: '<image>' }), expected(id));
        t.equal(CHAT_FORMATS[id].render(POLICY), expected(id), '<image> is the default marker');
    });

    t.test(`${id} puts the image marker before the policy and strips the policy like policy.strip()`, async (t) => {
        const out = CHAT_FORMATS[id].render(`\n  ${POLICY}  \n`, { imageMarker: MTMD_MEDIA_MARKER });
        t.equal(out, expected(id).replace('<image>', MTMD_MEDIA_MARKER));
        t.ok(out.indexOf(`${MTMD_MEDIA_MARKER}\nCheck the image.`) >= 0);
    });
}

t.test('BOS and stop strings per model line', async (t) => {
    t.equal(CHAT_FORMATS['llava15-vicuna-system'].addBos, true, 'LLaMA tokenizer adds <s>');
    t.equal(CHAT_FORMATS['llava15-vicuna'].addBos, true);
    t.equal(CHAT_FORMATS['llava16-chatml'].addBos, false);
    t.equal(CHAT_FORMATS['onevision-qwen'].addBos, false);
    t.same(CHAT_FORMATS['llava15-vicuna-system'].stopStrings, ['</s>']);
    t.ok(CHAT_FORMATS['onevision-qwen'].stopStrings.includes('<|im_end|>'));
    t.ok(CHAT_FORMATS['llava16-chatml'].stopStrings.includes('<|im_end|>'));
    for (const id of CHAT_FORMAT_IDS)
        t.notOk(CHAT_FORMATS[id].render(POLICY).includes('<s>'), `${id}: BOS is not in the text`);
});

t.test('the full default policy goes in unchanged', async (t) => {
    const policy = Policy.default().render();
    const out = CHAT_FORMATS['onevision-qwen'].render(policy, { imageMarker: MTMD_MEDIA_MARKER });
    t.ok(out.includes(`<|im_start|>user\n${MTMD_MEDIA_MARKER}\n${policy}<|im_end|>\n`));
});

t.test('getChatFormat rejects unknown ids with the list of known ones', async (t) => {
    t.equal(getChatFormat('llava16-chatml').id, 'llava16-chatml');
    t.throws(() => getChatFormat('chatml'), {
        message: /unknown chat format "chatml": expected one of llava15-vicuna-system\|/,
    });
});

const QWEN_TEMPLATE =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}";
const VICUNA_TEMPLATE =
    "{% for message in messages %}{% if message['role'] == 'user' %}USER: {% else %}ASSISTANT: {% endif %}{{ message['content'] }}{% endfor %}";

const selections: [string, Parameters<typeof selectChatFormat>[0], string, RegExp][] = [
    [
        'qwen2 architecture',
        { architecture: 'qwen2', name: 'whatever' },
        'onevision-qwen',
        /general\.architecture=qwen2/,
    ],
    [
        'llama + ChatML template (Yi 34B)',
        { architecture: 'llama', chatTemplate: QWEN_TEMPLATE },
        'llava16-chatml',
        /ChatML/,
    ],
    [
        'llama + USER:/ASSISTANT: template',
        { architecture: 'llama', chatTemplate: VICUNA_TEMPLATE },
        'llava15-vicuna-system',
        /system sentence/,
    ],
    [
        'llama without template, 34b name',
        { architecture: 'llama', fileName: '/models/LlavaGuard-34B.Q4_K_M.gguf' },
        'llava16-chatml',
        /34B/,
    ],
    [
        'llama without template, 7B name',
        { architecture: 'llama', name: 'LlavaGuard-7B' },
        'llava15-vicuna-system',
        /LLaVA-1\.5/,
    ],
    ['ChatML template without architecture', { chatTemplate: QWEN_TEMPLATE }, 'onevision-qwen', /ChatML chat template/],
    [
        'ChatML template with "Answer the questions."',
        { chatTemplate: '<|im_start|>system\nAnswer the questions.<|im_end|>' },
        'llava16-chatml',
        /34B/,
    ],
    [
        'file name llavaguard-v1.2-0.5b-ov',
        { fileName: 'llavaguard-v1.2-0.5b-ov-q8_0.gguf' },
        'onevision-qwen',
        /OneVision/,
    ],
    [
        'file name LlavaGuard-v1.2-7B-OV (7B but OV)',
        { fileName: 'LlavaGuard-v1.2-7B-OV.gguf' },
        'onevision-qwen',
        /OneVision/,
    ],
    ['file name LlavaGuard-7B', { fileName: 'LlavaGuard-7B.gguf' }, 'llava15-vicuna-system', /7B\/13B/],
    ['file name with 13b', { fileName: 'llavaguard-v1.1-13b-hf-f16.gguf' }, 'llava15-vicuna-system', /7B\/13B/],
    ['file name with 34b', { fileName: 'some-34b-model.gguf' }, 'llava16-chatml', /34B/],
    [
        'general.name wins over the file name',
        { name: 'LlavaGuard-v1.2-7B-OV', fileName: 'model-13b.gguf' },
        'onevision-qwen',
        /general\.name/,
    ],
    ['llavaguard.version 1.2 alone', { llavaguardVersion: 'v1.2' }, 'onevision-qwen', /llavaguard\.version/],
    ['nothing known', { fileName: 'model.gguf' }, 'onevision-qwen', /nothing .* recognised; defaulting/],
    ['unknown architecture', { architecture: 'gemma3' }, 'onevision-qwen', /gemma3 not recognised/],
    [
        'override beats metadata',
        { architecture: 'qwen2', chatTemplate: QWEN_TEMPLATE, override: 'llava15-vicuna' },
        'llava15-vicuna',
        /override/,
    ],
];

for (const [what, info, id, reason] of selections) {
    t.test(`selectChatFormat: ${what} -> ${id}`, async (t) => {
        const s = selectChatFormat(info);
        t.equal(s.format.id, id);
        t.match(s.reason, reason);
    });
}

t.test('selectChatFormat: an unknown override id throws', async (t) => {
    t.throws(() => selectChatFormat({ architecture: 'qwen2', override: 'nope' }), {
        message: /unknown chat format "nope"/,
    });
});

t.test('policy version follows the model version', async (t) => {
    t.equal(defaultPolicyVersionFor({ fileName: 'LlavaGuard-v1.0-7B.gguf' }), 'v1.0');
    t.equal(defaultPolicyVersionFor({ name: 'LlavaGuard-7B' }), 'v1.0', 'the unversioned first release is v1.0');
    t.equal(defaultPolicyVersionFor({ fileName: 'LlavaGuard-34B-Q4_K_M.gguf' }), 'v1.0');
    t.equal(defaultPolicyVersionFor({ name: 'LlavaGuard-v1.1-13B-hf' }), 'v1.2', 'v1.1 gets the v1.2 wording');
    t.equal(defaultPolicyVersionFor({ fileName: 'llavaguard-v1.2-0.5b-ov.gguf' }), 'v1.2');
    t.equal(
        defaultPolicyVersionFor({ llavaguardVersion: '1.0', name: 'LlavaGuard-v1.2' }),
        'v1.0',
        'the metadata key wins',
    );
    t.equal(
        defaultPolicyVersionFor({ name: 'llava-v1.6-34b' }),
        'v1.2',
        'a base-model version is not a LlavaGuard version',
    );
    t.equal(defaultPolicyVersionFor({}), 'v1.2');
    const s = selectChatFormat({ name: 'LlavaGuard-v1.1-7B-hf', architecture: 'llama' });
    t.equal(s.policyVersion, 'v1.2');
    t.match(s.policyReason, /unpublished/);
});
