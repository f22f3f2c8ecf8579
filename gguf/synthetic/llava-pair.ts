// The plan of a synthetic LLaVA pair (text model + mmproj), written once for the tiny test models and the
// shape-faithful benchmark models: the metadata, the vocabulary and the tensors, as llama.cpp's converters lay
// them out (convert_hf_to_gguf.py for the text model: norms and biases F32, matrices in the chosen type;
// convert_image_encoder_to_gguf.py for the mmproj). What differs between the two kinds is their options.

import { addTokenizerMetadata, type GgufMetadataBuilder } from '../metadata.js';
import { GgmlType, GgufType } from '../types.js';
import type { ShapedVisionDims, TinyFamily, TinyTextDims } from './dims.js';
import { PlanBuilder, type GgufFilePlan } from './plan.js';
import { addTextModelTensors, addVisionModelTensors, type TensorAdders } from './tensors.js';
import type { TinyVocab } from './tiny-vocab.js';

export type SyntheticWeightType = 'f32' | 'f16' | 'bf16' | 'q8_0';

/** llama_ftype of the file as a whole */
const FILE_TYPE: Record<SyntheticWeightType, number> = { f32: 0, f16: 1, bf16: 32, q8_0: 7 };

/** Q8_0 needs rows that are a multiple of 32; others stay F16, as llama-quantize does. BF16: every matrix. */
function matrixType(w: SyntheticWeightType, rowLength: number): number {
    if (w === 'f32') return GgmlType.F32;
    if (w === 'bf16') return GgmlType.BF16;
    if (w === 'q8_0' && rowLength % 32 === 0) return GgmlType.Q8_0;
    return GgmlType.F16;
}

/** What names a file and says it is a test model. */
export interface FileIdentity {
    name: string;
    description: string;
    /** general.quantization_version, which llama.cpp's converters write for quantized files */
    quantizationVersion: boolean;
}

export interface LlavaPairOptions {
    family: TinyFamily;
    text: TinyTextDims;
    vision: ShapedVisionDims;
    vocab: TinyVocab;
    chatTemplate: string;
    /** of token_embd (and output.weight), which sets the logits' spread */
    embeddingStd: number;
    /** fc1 stored as ffn_down, as the legacy image-encoder converter does */
    legacyFfnNames: boolean;
    weightType: SyntheticWeightType;
    mmprojWeightType: SyntheticWeightType;
    seed: number;
    generatorVersion: number;
    /** llavaguard.shapes, for the shape-faithful models */
    shapes?: string;
    identity: (what: 'model' | 'mmproj') => FileIdentity;
}

function addIdentity(b: PlanBuilder, o: LlavaPairOptions, arch: string, weightType: SyntheticWeightType): void {
    const id = o.identity(b.what);
    b.addString('general.architecture', arch);
    b.addString('general.type', b.what);
    b.addString('general.name', id.name);
    b.addString('general.description', id.description);
    b.addU32('general.file_type', FILE_TYPE[weightType]);
    if (id.quantizationVersion) b.addU32('general.quantization_version', 2);
    b.addString('llavaguard.family', o.family);
    if (o.shapes) b.addString('llavaguard.shapes', o.shapes);
    b.addBool('llavaguard.test_model', true);
    b.addU32('llavaguard.test_model.seed', o.seed >>> 0);
    b.addU32('llavaguard.test_model.generator_version', o.generatorVersion);
}

function addTextHparams(b: GgufMetadataBuilder, t: TinyTextDims, nVocab: number): void {
    const a = t.arch;
    b.addU32(`${a}.context_length`, t.contextLength);
    b.addU32(`${a}.embedding_length`, t.nEmbd);
    b.addU32(`${a}.block_count`, t.nLayer);
    b.addU32(`${a}.feed_forward_length`, t.nFf);
    b.addU32(`${a}.attention.head_count`, t.nHead);
    b.addU32(`${a}.attention.head_count_kv`, t.nHeadKv);
    b.addF32(`${a}.attention.layer_norm_rms_epsilon`, t.rmsEps);
    b.addU32(`${a}.rope.dimension_count`, t.nEmbd / t.nHead);
    b.addF32(`${a}.rope.freq_base`, t.ropeFreqBase);
    b.addU32(`${a}.vocab_size`, nVocab);
}

function addClipHparams(b: GgufMetadataBuilder, v: ShapedVisionDims): void {
    b.addBool('clip.has_text_encoder', false);
    b.addBool('clip.has_vision_encoder', true);
    b.addBool('clip.has_llava_projector', true);
    b.addString('clip.projector_type', 'mlp');
    b.addU32('clip.vision.image_size', v.imageSize);
    b.addU32('clip.vision.patch_size', v.patchSize);
    b.addU32('clip.vision.embedding_length', v.nEmbd);
    b.addU32('clip.vision.feed_forward_length', v.nFf);
    b.addU32('clip.vision.projection_dim', v.projectionDim);
    b.addU32('clip.vision.attention.head_count', v.nHead);
    b.addF32('clip.vision.attention.layer_norm_epsilon', v.eps);
    b.addU32('clip.vision.block_count', v.nLayer);
    if (v.gridPinpoints) b.addArray('clip.vision.image_grid_pinpoints', GgufType.INT32, v.gridPinpoints);
    if (v.imageAspectRatio) b.addString('clip.vision.image_aspect_ratio', v.imageAspectRatio);
    // what `llavaguard convert` writes from config.json: our image pipeline reads it (lib/pipeline)
    const aspect = v.imageAspectRatio ?? (v.anyresMax ? `anyres_max_${v.anyresMax}` : undefined);
    if (aspect) b.addString('llavaguard.vision_aspect_ratio', aspect);
    if (v.mmPatchMergeType) b.addString('clip.vision.mm_patch_merge_type', v.mmPatchMergeType);
    if (v.mmProjectorType) b.addString('clip.vision.mm_projector_type', v.mmProjectorType);
    b.addArray('clip.vision.image_mean', GgufType.FLOAT32, v.imageMean);
    b.addArray('clip.vision.image_std', GgufType.FLOAT32, v.imageStd);
    b.addBool('clip.use_gelu', v.useGelu);
}

/** Matrices in the file's type, vectors F32, the patch kernel and position embeddings F16 (F32 in an F32 file). */
function tensorAdders(b: PlanBuilder, w: SyntheticWeightType): TensorAdders {
    return {
        mat: (name, cols, rows, std) => b.tensor(name, [cols, rows], matrixType(w, cols), std),
        vec: (name, n, std, mean = 0) => b.tensor(name, [n], GgmlType.F32, std, mean),
        conv: (name, dims, std) => b.tensor(name, dims, w === 'f32' ? GgmlType.F32 : GgmlType.F16, std),
    };
}

export function planLlavaPair(o: LlavaPairOptions): { model: GgufFilePlan; mmproj: GgufFilePlan } {
    const spm = o.family === 'llava15';
    const nVocab = o.vocab.tokens.length;
    const m = new PlanBuilder('model');
    addIdentity(m, o, o.text.arch, o.weightType);
    addTextHparams(m, o.text, nVocab);
    addTokenizerMetadata(m, {
        ...o.vocab,
        model: spm ? 'llama' : 'gpt2',
        pre: spm ? 'default' : 'qwen2',
        addBos: spm,
        addEos: false,
        chatTemplate: o.chatTemplate,
    });
    addTextModelTensors(o.text, nVocab, o.embeddingStd, tensorAdders(m, o.weightType));

    const v = new PlanBuilder('mmproj');
    addIdentity(v, o, 'clip', o.mmprojWeightType);
    addClipHparams(v, o.vision);
    addVisionModelTensors(o.vision, o.text.nEmbd, o.legacyFfnNames, tensorAdders(v, o.mmprojWeightType));
    return { model: m.plan(), mmproj: v.plan() };
}
