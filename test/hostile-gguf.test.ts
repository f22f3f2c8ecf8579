// Crafted model files: each hyper-parameter or tensor shape that llama.cpp or clip.cpp would assert on (a
// SIGABRT that no JavaScript can catch) must be refused by VisionModel.load with a clear ModelLoadError. The
// loads run in child processes, so a regression shows as a signal on its case, not as a dead test runner.
import { join } from 'node:path';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { GgufType } from '../gguf/types.js';
import { type LoadCase, loadInChildren } from './helpers/child-loads.js';
import { bool, craftGguf, f32, f32s, type GgufEdits, i32s, str, u32 } from './helpers/craft-gguf.js';
import { tempDir } from './helpers/temp-dir.js';

const dir = tempDir('hostile-gguf-');

const ov = await cachedTestModel('onevision'); // qwen2, n_embd 192, 3 heads, 1 kv head, SigLIP 64 wide, 1 head
const lv = await cachedTestModel('llava15'); // llama, n_embd 128, 2 heads; CLIP 64 wide with a class token

interface Hostile {
    /** The behaviour, as the test's name. */
    test: string;
    /** Which file of which pair is crafted. */
    family?: 'onevision' | 'llava15';
    file: 'model' | 'mmproj';
    edits: GgufEdits;
    /** What the refusal must say (key and bound). */
    message: RegExp;
}

/** A count set to 0: the refusal says it must be at least 1. */
function zeroCount(test: string, file: Hostile['file'], key: string): Hostile {
    return {
        test,
        file,
        edits: { set: { [key]: u32(0) } },
        message: new RegExp(`${escaped(key)} is 0, it must be at least 1`),
    };
}

/** A tensor given other dims: the refusal names it with both shapes. */
function reshaped(test: string, file: Hostile['file'], tensor: string, dims: number[], expected: number[]): Hostile {
    const shape = (d: number[]) => `\\[${d.join(', ')}\\]`;
    return {
        test,
        file,
        edits: { tensors: (t) => (t.name === tensor ? dims : undefined) },
        message: new RegExp(`tensor ${escaped(tensor)} is ${shape(dims)}, it must be ${shape(expected)}`),
    };
}

const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const HOSTILE: Hostile[] = [
    // The three files measured to abort (issue 20).
    {
        test: 'a layer count above llama.cpp maximum is refused',
        file: 'model',
        edits: { set: { 'qwen2.block_count': u32(513) } },
        message: /qwen2\.block_count is 513, above the maximum of 512 \(llama\.cpp's LLAMA_MAX_LAYERS\)/,
    },
    {
        test: 'a rotary dimension that does not match the head size is refused',
        file: 'model',
        edits: { set: { 'qwen2.rope.dimension_count': u32(32) } },
        message: /qwen2\.rope\.dimension_count is 32, it must equal the head size .* = 64/,
    },
    {
        test: 'a vision encoder with zero attention heads is refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.attention.head_count': u32(0) } },
        message: /clip\.vision\.attention\.head_count is 0, it must be at least 1/,
    },
    // Text model: hyper-parameters llama.cpp asserts on or divides by.
    zeroCount('a model with zero layers is refused', 'model', 'qwen2.block_count'),
    {
        test: 'a head count that does not divide the embedding width is refused',
        file: 'model',
        edits: { set: { 'qwen2.attention.head_count': u32(5) } },
        message: /qwen2\.attention\.head_count \(5\) must divide qwen2\.embedding_length \(192\)/,
    },
    {
        test: 'a kv head count that does not divide the head count is refused',
        file: 'model',
        edits: { set: { 'qwen2.attention.head_count_kv': u32(2) } },
        message: /qwen2\.attention\.head_count_kv \(2\) must divide qwen2\.attention\.head_count \(3\)/,
    },
    {
        test: 'a key length other than the head size is refused',
        file: 'model',
        edits: { set: { 'qwen2.attention.key_length': u32(48) } },
        message: /qwen2\.attention\.key_length is 48, it must equal the head size/,
    },
    {
        test: 'an unknown rope scaling type is refused',
        file: 'model',
        edits: { set: { 'qwen2.rope.scaling.type': str('sideways') } },
        message: /qwen2\.rope\.scaling\.type 'sideways' is not one of none, linear, yarn, longrope/,
    },
    {
        test: 'experts in a dense architecture are refused',
        file: 'model',
        edits: { set: { 'qwen2.expert_count': u32(8), 'qwen2.expert_used_count': u32(9) } },
        message: /qwen2\.expert_count is 8, above the maximum of 0/,
    },
    zeroCount('a zero context length is refused', 'model', 'qwen2.context_length'),
    {
        test: 'a hyper-parameter of the wrong type is refused',
        file: 'model',
        edits: { set: { 'qwen2.embedding_length': f32(192) } },
        message: /qwen2\.embedding_length is a FLOAT32, it must be a UINT32/,
    },
    {
        test: 'a feed-forward length that does not match the tensors is refused',
        file: 'model',
        edits: { set: { 'qwen2.feed_forward_length': u32(300) } },
        message: /tensor blk\.0\.ffn_gate\.weight is \[192, 256\], it must be \[192, 300\]/,
    },
    {
        test: 'a vocabulary that does not match token_embd is refused',
        file: 'model',
        edits: { set: { 'qwen2.vocab_size': u32(2901) } },
        message: /qwen2\.vocab_size is 2901 but tokenizer\.ggml\.tokens has 2900 tokens/,
    },
    reshaped(
        'a token embedding of another vocabulary size is refused',
        'model',
        'token_embd.weight',
        [192, 2800],
        [192, 2900],
    ),
    {
        test: 'a duplicate token in the vocabulary is refused',
        family: 'llava15',
        file: 'model',
        edits: {}, // filled below: token 5 renamed to token 4
        message: /tokenizer\.ggml\.tokens holds "<0x01>" twice \(ids 4 and 5\)/,
    },
    reshaped('a tensor of the wrong shape is refused', 'model', 'blk.1.attn_k.weight', [192, 128], [192, 64]),
    {
        test: 'a layer count above the layers present is refused',
        file: 'model',
        edits: { set: { 'qwen2.block_count': u32(3) } },
        message: /tensor blk\.2\.attn_norm\.weight is missing/,
    },
    {
        test: 'tensors of layers past the layer count are refused',
        file: 'model',
        edits: { set: { 'qwen2.block_count': u32(1) } },
        message: /tensor blk\.1\.\S+ belongs to a layer past qwen2\.block_count \(1\)/,
    },
    {
        test: 'an unsupported architecture is refused',
        file: 'model',
        edits: { set: { 'general.architecture': str('gemma3') } },
        message: /general\.architecture 'gemma3' is not supported \(supported: llama, qwen2\)/,
    },
    // mmproj: clip.cpp hyper-parameters and the llava graph's tensors.
    {
        test: 'a vision head count that does not divide the tower width is refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.attention.head_count': u32(3) } },
        message: /clip\.vision\.attention\.head_count \(3\) must divide clip\.vision\.embedding_length \(64\)/,
    },
    {
        test: 'a clip key of the wrong type is refused',
        file: 'mmproj',
        edits: { set: { 'clip.use_gelu': u32(1) } },
        message: /clip\.use_gelu is a UINT32, it must be a BOOL/,
    },
    zeroCount('a zero patch size is refused', 'mmproj', 'clip.vision.patch_size'),
    {
        test: 'a patch size above the image size is refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.patch_size': u32(29) } },
        message: /clip\.vision\.patch_size is 29, above the maximum of 28/,
    },
    {
        test: 'an image size above clip.cpp maximum is refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.image_size': u32(8200) } },
        message: /clip\.vision\.image_size is 8200, above the maximum of 8192/,
    },
    {
        test: 'a vision block count above the blocks present is refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.block_count': u32(4) } },
        message: /tensor v\.blk\.3\.attn_q\.weight is missing/,
    },
    {
        test: 'a vision tower without its attention weights is refused',
        file: 'mmproj',
        edits: { tensors: (t) => (t.name === 'v.blk.1.attn_q.weight' ? null : undefined) },
        message: /tensor v\.blk\.1\.attn_q\.weight is missing/,
    },
    reshaped('a vision tensor of the wrong shape is refused', 'mmproj', 'v.blk.0.ffn_up.weight', [64, 96], [64, 128]),
    reshaped(
        'position embeddings that do not cover the patches are refused',
        'mmproj',
        'v.position_embd.weight',
        [64, 15],
        [64, 16],
    ),
    reshaped('a projector bias of the wrong width is refused', 'mmproj', 'mm.0.bias', [100], [192]),
    {
        test: 'a projector without its second layer is refused',
        file: 'mmproj',
        edits: { tensors: (t) => (t.name.startsWith('mm.2.') ? null : undefined) },
        message: /tensor mm\.2\.weight is missing/,
    },
    {
        test: 'a projector whose output does not fit the text model is refused',
        file: 'mmproj',
        edits: {
            tensors: (t) => (t.name === 'mm.2.weight' ? [192, 128] : t.name === 'mm.2.bias' ? [128] : undefined),
        },
        message: /outputs 128-wide embeddings but the text model .* is 192 wide/,
    },
    {
        test: 'an unsupported projector type is refused',
        file: 'mmproj',
        edits: { set: { 'clip.projector_type': str('ldp') } },
        message: /clip\.projector_type 'ldp' is not supported/,
    },
    {
        test: 'an audio encoder is refused',
        file: 'mmproj',
        edits: { set: { 'clip.has_audio_encoder': bool(true) } },
        message: /clip\.has_audio_encoder is true: only vision projectors are supported/,
    },
    {
        test: 'grid pinpoints that are not image-size tiles are refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.image_grid_pinpoints': i32s([28, 28, 28, 30]) } },
        message:
            /clip\.vision\.image_grid_pinpoints holds 28x30: each side must be a multiple of clip\.vision\.image_size \(28\)/,
    },
    {
        test: 'an odd number of grid pinpoint values is refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.image_grid_pinpoints': i32s([28, 28, 56]) } },
        message: /clip\.vision\.image_grid_pinpoints must hold \(width, height\) pairs, not 3 values/,
    },
    {
        test: 'grid pinpoints of too many tiles are refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.image_grid_pinpoints': i32s([28, 28, 28 * 9, 28 * 9]) } },
        message: /holds 252x252: more than 64 tiles/,
    },
    {
        test: 'an image mean of fewer than 3 channels is refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.image_mean': f32s([0.5, 0.5]) } },
        message: /clip\.vision\.image_mean must hold 3 values/,
    },
    {
        test: 'a zero image std is refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.image_std': f32s([0.5, 0, 0.5]) } },
        message: /clip\.vision\.image_std holds 0: values must be finite and > 0/,
    },
    {
        test: 'a feature layer past the vision blocks is refused',
        file: 'mmproj',
        edits: { set: { 'clip.vision.feature_layer': i32s([1, 7]) } },
        message: /clip\.vision\.feature_layer holds 7, past clip\.vision\.block_count \(3\)/,
    },
];

// The duplicate token: the llava15 vocabulary with token 5 spelled as token 4.
{
    const { readGgufFile } = await import('../gguf/reader.js');
    const tokens = [...((await readGgufFile(lv.model)).metadata.get('tokenizer.ggml.tokens')!.value as string[])];
    tokens[5] = tokens[4]!;
    HOSTILE.find((h) => h.test.startsWith('a duplicate token'))!.edits = {
        set: { 'tokenizer.ggml.tokens': { type: GgufType.ARRAY, elemType: GgufType.STRING, value: tokens } },
    };
}

const cases: LoadCase[] = [
    { name: 'intact-onevision', model: ov.model, mmproj: ov.mmproj },
    { name: 'intact-llava15', model: lv.model, mmproj: lv.mmproj },
];
for (const [i, h] of HOSTILE.entries()) {
    const pair = h.family === 'llava15' ? lv : ov;
    const crafted = await craftGguf(pair[h.file], join(dir, `${i}-${h.file}.gguf`), h.edits);
    cases.push({
        name: `case${i}`,
        model: h.file === 'model' ? crafted : pair.model,
        mmproj: h.file === 'mmproj' ? crafted : pair.mmproj,
    });
}
const outcomes = await loadInChildren(cases);

t.test('the intact tiny pairs load and run in the child (the harness works)', async (t) => {
    for (const name of ['intact-onevision', 'intact-llava15']) {
        const o = outcomes.get(name)!;
        t.same(o.result, { loaded: true }, `${name}: ${o.result?.message ?? o.output}`);
    }
});

for (const [i, h] of HOSTILE.entries()) {
    t.test(h.test, async (t) => {
        const o = outcomes.get(`case${i}`)!;
        t.notOk(o.signal, `the process survives (no ${o.signal})${o.signal ? `:\n${o.output}` : ''}`);
        t.equal(o.result?.loaded, false, 'the file is refused');
        t.equal(o.result?.error, 'ModelLoadError', 'with the typed error');
        t.match(o.result?.message ?? '', h.message, 'naming the key and the bound');
        t.match(o.result?.message ?? '', `${h.file} file '`, 'and the file');
    });
}
