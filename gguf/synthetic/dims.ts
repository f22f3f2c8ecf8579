// The dimensions and switches a synthetic LLaVA pair (text model + mmproj) is made from: tiny-models.ts fills
// them with small test sizes, shapes.ts with the real LlavaGuard models' sizes.

export type TinyFamily = 'llava15' | 'onevision';

export interface TinyTextDims {
    arch: 'llama' | 'qwen2';
    nEmbd: number;
    nHead: number;
    nHeadKv: number;
    nFf: number;
    nLayer: number;
    contextLength: number;
    rmsEps: number;
    ropeFreqBase: number;
    qkvBias: boolean;
    /** no output.weight: the output projection reuses token_embd (Qwen2-0.5B does this, Qwen2-7B and Vicuna-7B not) */
    tiedEmbeddings: boolean;
}

export interface TinyVisionDims {
    imageSize: number;
    patchSize: number;
    nEmbd: number;
    nHead: number;
    nFf: number;
    /** blocks in the file; llama.cpp's llava graph runs nLayer - 1 of them */
    nLayer: number;
    projectionDim: number;
    eps: number;
    useGelu: boolean;
    classEmbedding: boolean;
    preLayerNorm: boolean;
    patchBias: boolean;
    imageMean: [number, number, number];
    imageStd: [number, number, number];
    /** flattened [w, h, w, h, ...] or undefined */
    gridPinpoints?: number[];
    /** anyres_max_N of a OneVision-like model (written as llavaguard.vision_aspect_ratio, as our converter does). */
    anyresMax?: number;
    /** A `v.image_newline` row separator (OneVision / LLaVA-1.6). */
    imageNewline?: boolean;
}

export interface ShapedVisionDims extends TinyVisionDims {
    /** clip.vision.image_aspect_ratio as the LLaVA config names it (informational for llama.cpp) */
    imageAspectRatio?: string;
    /** clip.vision.mm_patch_merge_type */
    mmPatchMergeType?: string;
    /** clip.vision.mm_projector_type (LLaVA's name of the projector, e.g. mlp2x_gelu) */
    mmProjectorType?: string;
}

type TextSizes = Pick<TinyTextDims, 'nEmbd' | 'nHead' | 'nHeadKv' | 'nFf' | 'nLayer'>;
type VisionSizes = Pick<
    TinyVisionDims,
    'imageSize' | 'patchSize' | 'nEmbd' | 'nHead' | 'nFf' | 'nLayer' | 'projectionDim'
>;

/** A LLaMA-2 / Vicuna text model (LLaVA-1.5) of these sizes. */
export const llamaText = (sizes: TextSizes): TinyTextDims => ({
    arch: 'llama',
    ...sizes,
    contextLength: 4096,
    rmsEps: 1e-5,
    ropeFreqBase: 10000,
    qkvBias: false,
    tiedEmbeddings: false,
});

/**
 * A Qwen2 text model (LLaVA-OneVision): q/k/v biases; tied embeddings unless `tiedEmbeddings` is false
 * (config.json's tie_word_embeddings: true in Qwen2-0.5B, false in Qwen2-7B, which has a separate lm_head).
 */
export const qwen2Text = (sizes: TextSizes, tiedEmbeddings = true): TinyTextDims => ({
    arch: 'qwen2',
    ...sizes,
    contextLength: 32768,
    rmsEps: 1e-6,
    ropeFreqBase: 1000000,
    qkvBias: true,
    tiedEmbeddings,
});

/**
 * A vision tower: CLIP ViT (LLaVA-1.5: class embedding, pre-layernorm, quick-GELU, OpenAI's normalisation) or
 * SigLIP (LLaVA-OneVision: none of those, GELU, a patch bias, mean and std 0.5). Every difference is the kind.
 */
function visionTower(kind: 'clip' | 'siglip', sizes: VisionSizes): TinyVisionDims {
    const clip = kind === 'clip';
    return {
        ...sizes,
        eps: clip ? 1e-5 : 1e-6,
        useGelu: !clip,
        classEmbedding: clip,
        preLayerNorm: clip,
        patchBias: !clip,
        imageMean: clip ? [0.48145466, 0.4578275, 0.40821073] : [0.5, 0.5, 0.5],
        imageStd: clip ? [0.26862954, 0.26130258, 0.27577711] : [0.5, 0.5, 0.5],
    };
}

export const clipVision = (sizes: VisionSizes): TinyVisionDims => visionTower('clip', sizes);
export const siglipVision = (sizes: VisionSizes): TinyVisionDims => visionTower('siglip', sizes);

export interface TinyFamilySpec {
    family: TinyFamily;
    text: TinyTextDims;
    vision: TinyVisionDims;
}
