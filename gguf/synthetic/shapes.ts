// Random-weight model pairs with the exact tensor shapes, metadata and vocabularies of the real LlavaGuard
// models, for load / speed / memory measurements (tiny-models.ts makes the small ones for tests):
//
//   llavaguard-v1.2-0.5b  LlavaGuard-v1.2-0.5B-OV = LLaVA-OneVision-0.5B: Qwen2-0.5B text model (qwen2, 24 layers,
//                         896 wide, 14 heads / 2 KV heads, n_ff 4864, q/k/v biases, tied embeddings, the real
//                         151,936-token Qwen2 vocabulary) + SigLIP so400m-patch14-384 tower (27 blocks of which
//                         llama.cpp runs 26, 1152 wide, n_ff 4304, 16 heads, 729 patches, GELU) + mlp projector
//                         1152 -> 896 -> 896, with OneVision's 36 anyres grid pinpoints.
//   llavaguard-v1.2-7b    LlavaGuard-v1.2-7B-OV = LLaVA-OneVision-7B: Qwen2-7B text model (qwen2, 28 layers, 3584
//                         wide, 28 heads / 4 KV heads, n_ff 18944, q/k/v biases, a separate output.weight (lm_head,
//                         untied), the same Qwen2 vocabulary padded to the embedding's 152,064 rows) + the same
//                         SigLIP tower and anyres config + mlp projector 1152 -> 3584 -> 3584. Only in Q8_0 (about
//                         8.1 GB); for memory figures.
//   llavaguard-v1.1-7b    LlavaGuard-v1.1-7B = LLaVA-1.5-7B: LLaMA-2-7B (32 layers, 4096 wide, 32 heads, n_ff 11008,
//                         32,000-token SentencePiece vocabulary) + CLIP ViT-L/14-336 (24 blocks, 23 run, 1024 wide,
//                         n_ff 4096, 576 patches + class embedding, quick-GELU, pre-layernorm) + mlp 1024 -> 4096
//                         -> 4096. Only in Q8_0 (about 7 GB); for memory figures.
//
// The files are written tensor by tensor and, inside a tensor, a few million values at a time, so memory stays
// bounded (tens of MB) whatever the model size. Same options => the same bytes.
//
// Layout follows llama.cpp's own converters: the text model as convert_hf_to_gguf.py writes a qwen2/llama model
// (norms and biases F32, matrices in the chosen type), the mmproj as tools/mtmd/legacy-models/
// convert_image_encoder_to_gguf.py writes a LLaVA image encoder (4-D and 2-D weights F16, the rest F32; SigLIP's
// projection_dim 0; fc1/fc2 stored under the legacy names ffn_down/ffn_up, which clip.cpp detects and swaps back;
// no post-layernorm; OneVision's image_aspect_ratio / mm_patch_merge_type / mm_projector_type strings). One
// deliberate difference: the converter drops the unused last encoder block (and then writes block_count
// N-1 and clip.vision.feature_layer [N-1]); here all N blocks are stored with block_count N and llama.cpp's
// llava graph runs N-1 of them, which is the same computation (OneVision and LLaVA-1.5 both take the
// penultimate layer's output).

import { promises as fsp } from 'node:fs';
import path from 'node:path';

import { clipVision, llamaText, qwen2Text, siglipVision, type ShapedVisionDims, type TinyFamilySpec } from './dims.js';
import { planLlavaPair } from './llava-pair.js';
import { planParameterCount, writePlannedFile, type GgufFilePlan, type ShapedProgress } from './plan.js';
import { QWEN2_7B_VOCAB_SIZE, QWEN2_VOCAB_SIZE, loadRealVocab, type RealVocabId } from './real-vocab.js';
import { VICUNA_CHAT_TEMPLATE } from './tiny-vocab.js';

export type { ShapedVisionDims } from './dims.js';
export {
    planFileSize,
    planHeader,
    planParameterCount,
    writePlannedFile,
    type GgufFilePlan,
    type PlannedKV,
    type PlannedTensor,
    type ShapedProgress,
    type TensorInit,
} from './plan.js';

export type ShapedModelId = 'llavaguard-v1.2-0.5b' | 'llavaguard-v1.2-7b' | 'llavaguard-v1.1-7b';
export type ShapedWeightType = 'f16' | 'bf16' | 'q8_0';

/** Bump when the generated files change. */
export const SHAPED_MODEL_GENERATOR_VERSION = 2;

export interface ShapedModelSpec extends TinyFamilySpec {
    id: ShapedModelId;
    /** the real model this mirrors */
    mirrors: string;
    vocab: RealVocabId;
    /** rows of the token embedding (Qwen2's vocabulary is padded to it) */
    vocabSize: number;
    chatTemplate: string;
    vision: ShapedVisionDims;
    /** weight types this shape may be written in */
    weightTypes: readonly ShapedWeightType[];
}

/** Qwen2-Instruct's own template (ChatML with the default system turn), as Qwen2-0.5B-Instruct ships it. */
export const QWEN2_CHAT_TEMPLATE =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}" +
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}" +
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** LLaVA-OneVision's anyres grid: every [w, h] with w, h in 384 * {1..6}, flattened. */
export function oneVisionPinpoints(): number[] {
    const out: number[] = [];
    for (let i = 1; i <= 6; i++) for (let j = 1; j <= 6; j++) out.push(384 * i, 384 * j);
    return out;
}

/** LLaVA-OneVision's vision side, the same in the 0.5B and the 7B: SigLIP so400m-patch14-384, anyres_max_9. */
const oneVisionSiglip = (): ShapedVisionDims => ({
    ...siglipVision({
        imageSize: 384,
        patchSize: 14,
        nEmbd: 1152,
        nHead: 16,
        nFf: 4304,
        nLayer: 27,
        projectionDim: 0,
    }),
    gridPinpoints: oneVisionPinpoints(),
    imageAspectRatio: 'anyres_max_9',
    mmPatchMergeType: 'spatial_unpad',
    mmProjectorType: 'mlp2x_gelu',
    imageNewline: true,
});

export const SHAPED_MODELS: Readonly<Record<ShapedModelId, ShapedModelSpec>> = Object.freeze({
    'llavaguard-v1.2-0.5b': {
        id: 'llavaguard-v1.2-0.5b',
        mirrors: 'AIML-TUDA/LlavaGuard-v1.2-0.5B-OV (LLaVA-OneVision: Qwen2-0.5B + SigLIP so400m-patch14-384)',
        family: 'onevision',
        text: qwen2Text({ nEmbd: 896, nHead: 14, nHeadKv: 2, nFf: 4864, nLayer: 24 }),
        vocab: 'qwen2',
        vocabSize: QWEN2_VOCAB_SIZE,
        chatTemplate: QWEN2_CHAT_TEMPLATE,
        vision: oneVisionSiglip(),
        weightTypes: ['f16', 'bf16', 'q8_0'],
    },
    'llavaguard-v1.2-7b': {
        id: 'llavaguard-v1.2-7b',
        mirrors: 'AIML-TUDA/LlavaGuard-v1.2-7B-OV (LLaVA-OneVision: Qwen2-7B + SigLIP so400m-patch14-384)',
        family: 'onevision',
        text: qwen2Text({ nEmbd: 3584, nHead: 28, nHeadKv: 4, nFf: 18944, nLayer: 28 }, false),
        vocab: 'qwen2',
        vocabSize: QWEN2_7B_VOCAB_SIZE,
        chatTemplate: QWEN2_CHAT_TEMPLATE,
        vision: oneVisionSiglip(),
        weightTypes: ['q8_0'],
    },
    'llavaguard-v1.1-7b': {
        id: 'llavaguard-v1.1-7b',
        mirrors: 'AIML-TUDA/LlavaGuard-7B (LLaVA-1.5-7B: LLaMA-2-7B/Vicuna + CLIP ViT-L/14-336)',
        family: 'llava15',
        text: llamaText({ nEmbd: 4096, nHead: 32, nHeadKv: 32, nFf: 11008, nLayer: 32 }),
        vocab: 'llama2',
        vocabSize: 32000,
        chatTemplate: VICUNA_CHAT_TEMPLATE,
        vision: clipVision({
            imageSize: 336,
            patchSize: 14,
            nEmbd: 1024,
            nHead: 16,
            nFf: 4096,
            nLayer: 24,
            projectionDim: 768,
        }),
        weightTypes: ['q8_0'],
    },
});

export interface ShapedModelPlan {
    spec: ShapedModelSpec;
    weightType: ShapedWeightType;
    mmprojWeightType: ShapedWeightType;
    seed: number;
    model: GgufFilePlan;
    mmproj: GgufFilePlan;
}

export interface PlanShapedModelOptions {
    shapes: ShapedModelId;
    /** Text-model matrices. Default 'q8_0' (the only one for the 7B shapes). */
    weightType?: ShapedWeightType;
    /** Vision tower and projector matrices. Default 'f16', as real mmproj files are. */
    mmprojWeightType?: ShapedWeightType;
    seed?: number;
}

function planFiles(
    spec: ShapedModelSpec,
    weightType: ShapedWeightType,
    mmprojWeightType: ShapedWeightType,
    seed: number,
) {
    const vocab = loadRealVocab(spec.vocab, spec.vocabSize);
    if (vocab.tokens.length !== spec.vocabSize) {
        throw new Error(`${spec.id}: vocabulary has ${vocab.tokens.length} tokens, expected ${spec.vocabSize}`);
    }
    return planLlavaPair({
        family: spec.family,
        text: spec.text,
        vision: spec.vision,
        vocab,
        chatTemplate: spec.chatTemplate,
        // std 1/sqrt(n_embd) for the output projection (tied or not): logits of std ~1 after the final RMS norm
        embeddingStd: 1 / Math.sqrt(spec.text.nEmbd),
        legacyFfnNames: true,
        weightType,
        mmprojWeightType,
        seed,
        generatorVersion: SHAPED_MODEL_GENERATOR_VERSION,
        shapes: spec.id,
        identity: (what) =>
            what === 'mmproj'
                ? {
                      name: `${spec.id}-shaped-mmproj`,
                      description: `image encoder for LLaVA; random weights with the shapes of ${spec.mirrors} (seed ${seed}); not a real model`,
                      quantizationVersion: false,
                  }
                : {
                      name: `${spec.id}-shaped`,
                      description: `Random weights with the shapes of ${spec.mirrors} (seed ${seed}, ${weightType}); not a real model`,
                      quantizationVersion: weightType === 'q8_0',
                  },
    });
}

function checkOptions(opts: PlanShapedModelOptions): Required<PlanShapedModelOptions> & { spec: ShapedModelSpec } {
    const spec = (SHAPED_MODELS as Record<string, ShapedModelSpec | undefined>)[opts?.shapes];
    if (!spec)
        throw new TypeError(
            `unknown shapes '${String(opts?.shapes)}': expected ${Object.keys(SHAPED_MODELS).join(' | ')}`,
        );
    const weightType = opts.weightType ?? 'q8_0';
    const mmprojWeightType = opts.mmprojWeightType ?? 'f16';
    if (!spec.weightTypes.includes(weightType)) {
        throw new TypeError(
            `${spec.id} is written only as ${spec.weightTypes.join(' or ')} (got weightType '${weightType}')`,
        );
    }
    if (!['f16', 'q8_0'].includes(mmprojWeightType))
        throw new TypeError(`unknown mmprojWeightType '${mmprojWeightType}'`);
    const seed = opts.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
        throw new RangeError(`seed must be a u32, got ${seed}`);
    return { shapes: spec.id, weightType, mmprojWeightType, seed, spec };
}

/** Everything makeShapedModel would write, except the tensor data (loads the vocabulary; no big allocations). */
export function planShapedModel(opts: PlanShapedModelOptions): ShapedModelPlan {
    const o = checkOptions(opts);
    return {
        spec: o.spec,
        weightType: o.weightType,
        mmprojWeightType: o.mmprojWeightType,
        seed: o.seed,
        ...planFiles(o.spec, o.weightType, o.mmprojWeightType, o.seed),
    };
}

/** Image tokens one tile gives ((image_size / patch_size)^2). */
export function shapedImageTokensPerTile(shapes: ShapedModelId): number {
    const v = SHAPED_MODELS[shapes].vision;
    return Math.floor(v.imageSize / v.patchSize) ** 2;
}

export interface MakeShapedModelOptions extends PlanShapedModelOptions {
    outDir: string;
    onProgress?: (p: ShapedProgress) => void;
}

export interface ShapedModelFiles {
    model: string;
    mmproj: string;
    modelBytes: number;
    mmprojBytes: number;
    /** parameters (tensor elements) of each file */
    modelParameters: number;
    mmprojParameters: number;
    /** wall time of the write */
    ms: number;
}

/**
 * Writes `outDir/model.gguf` and `outDir/mmproj.gguf` (creating outDir). Same options => the same bytes.
 * llavaguard-v1.2-0.5b: ~0.5 GB (Q8_0) or ~1 GB (F16) text model + ~0.83 GB F16 mmproj.
 * llavaguard-v1.2-7b: ~8.1 GB Q8_0 text model + ~0.86 GB F16 mmproj; write it only on purpose.
 * llavaguard-v1.1-7b: ~7.2 GB Q8_0 text model + ~0.62 GB F16 mmproj; write it only on purpose.
 */
export async function makeShapedModel(opts: MakeShapedModelOptions): Promise<ShapedModelFiles> {
    const t0 = performance.now();
    const plan = planShapedModel(opts);
    if (typeof opts.outDir !== 'string' || opts.outDir === '')
        throw new TypeError('makeShapedModel: outDir is required');
    await fsp.mkdir(opts.outDir, { recursive: true });
    const model = path.join(opts.outDir, 'model.gguf');
    const mmproj = path.join(opts.outDir, 'mmproj.gguf');
    const mmprojBytes = await writePlannedFile(plan.mmproj, mmproj, plan.seed, opts.onProgress);
    const modelBytes = await writePlannedFile(plan.model, model, plan.seed, opts.onProgress);
    return {
        model,
        mmproj,
        modelBytes,
        mmprojBytes,
        modelParameters: planParameterCount(plan.model),
        mmprojParameters: planParameterCount(plan.mmproj),
        ms: performance.now() - t0,
    };
}
