import { defaultThreads } from './threads.js';
import type { NativeAddon, NativeModel } from '../bindings/AddonTypes.js';
import type { FlashAttention, VisionModelInfo } from './types.js';
import { type GpuRequest, type GpuSelection, selectGpu } from '../bindings/gpu.js';
import { loadAddon } from '../bindings/loadAddon.js';
import { metaValue } from '../../gguf/reader.js';
import type { GgufHeader } from '../../gguf/types.js';
import { ClosedError, ModelLoadError } from './errors.js';
import { validateModelFiles } from './validateModelFiles.js';
import {
    measureFlashAttention,
    resolveFlashAttention,
    textAttentionShape,
    visionAttentionShape,
    visionWorkload,
    type AttentionShape,
    type FlashAttentionChoice,
} from './flash-attention-choice.js';
import { VisionContext, type VisionContextOptions } from './VisionContext.js';
import { TextTokenizer, type PromptText } from '../tokenize/index.js';

export interface VisionModelOptions {
    /** Text-model GGUF. */
    model: string;
    /** Multimodal projector GGUF (vision tower + projector). */
    mmproj?: string;
    /**
     * Where the model runs: 'auto' (default) takes the first GPU backend (CUDA, Metal, Vulkan) whose package is
     * installed and that opens a GPU, else the CPU, saying why in `model.gpu`; an explicit backend that cannot
     * run is an error. No rebuild to switch.
     */
    gpu?: GpuRequest;
    /** Text-model layers on the GPU (-1 = all; 0 = CPU only). Default: all when a GPU was chosen. */
    gpuLayers?: number;
    /** Run the vision encoder on the GPU. Default: when gpuLayers != 0. */
    mmprojUseGpu?: boolean;
    /** Threads of the vision encoder. Default: the machine's parallelism. */
    mmprojThreads?: number;
    /**
     * Flash attention in the vision encoder. Default: 'auto' on a GPU; on the CPU, measured at load (the tower's
     * attention at its shapes, with and without: flash-attention-choice.ts), as it helps on some CPUs and not others.
     */
    mmprojFlashAttention?: FlashAttention;
    /** Bound on image tokens for dynamic-resolution projectors. */
    imageMaxTokens?: number;
    useMmap?: boolean;
    /** Load the tokenizer only (no weights, no mmproj): tokenize/detokenize work, contexts do not. */
    vocabOnly?: boolean;
    /** Called with 0..1 while the weights load. */
    onProgress?: (progress: number) => void;
}

/** What the image pipeline needs to know about the vision tower, read from the mmproj's GGUF header. */
export interface VisionInfo {
    projectorType: string;
    imageSize: number;
    patchSize: number;
    /** LLaVA-1.6 / OneVision anyres resolutions as [width, height] pairs; empty without anyres. */
    gridPinpoints: Array<[number, number]>;
    imageMean: number[];
    imageStd: number[];
    /** The mmproj has `v.image_newline` (LLaVA-1.6 / OneVision row separator). */
    hasImageNewline: boolean;
    /** The tower has a class token (CLIP); SigLIP has none. */
    hasClassEmbedding: boolean;
    /** The mmproj's own metadata (arrays shortened). */
    metadata: Record<string, unknown>;
}

/** A loaded text model and its vision projector. */
export class VisionModel {
    readonly #native: NativeModel;
    readonly info: VisionModelInfo;
    /** Undefined for a text-only model. */
    readonly vision: VisionInfo | undefined;
    /** The vision encoder's flash attention and why (the caller's option, 'auto' on a GPU, or measured). */
    readonly mmprojFlashAttention: FlashAttentionChoice | undefined;
    /** @internal the text model's attention shape, for the contexts' flash-attention choice. */
    readonly textAttention: AttentionShape | undefined;
    /** Where the model runs (backend and device) and why there. */
    readonly gpu: GpuSelection;
    /** @internal the text tokenizer as Hugging Face's (added tokens, normalizer), for prompts and tokenize(). */
    readonly textTokenizer: TextTokenizer;
    readonly #contexts = new Set<VisionContext>();

    private constructor(
        native: NativeModel,
        model: GgufHeader,
        mmproj: GgufHeader | undefined,
        mmprojFlashAttention: FlashAttentionChoice | undefined,
        gpu: GpuSelection,
    ) {
        this.#native = native;
        this.gpu = gpu;
        this.textAttention = textAttentionShape(model);
        this.mmprojFlashAttention = mmprojFlashAttention;
        this.info = native.info();
        this.vision = mmproj && visionInfo(mmproj);
        this.textTokenizer = new TextTokenizer(
            model,
            (text) => this.native.tokenize(text, false, false),
            (text) => this.native.tokenize(text, true, false),
        );
    }

    static async load(options: VisionModelOptions): Promise<VisionModel> {
        if (!options || typeof options.model !== 'string' || options.model === '') {
            throw new TypeError('VisionModel.load: option `model` (a GGUF file path) is required');
        }
        const headers = await validateModelFiles(options.model, options.mmproj);
        const addon = loadAddon();
        // A tokenizer-only load needs no device: no GPU library is opened for it.
        const placement = await selectGpu(options.vocabOnly ? 'cpu' : (options.gpu ?? 'auto'));
        const gpu = placement.backend !== 'cpu';
        const gpuLayers = gpu ? (options.gpuLayers ?? -1) : 0;
        const mmprojThreads = options.mmprojThreads ?? defaultThreads();
        const mmprojUseGpu = gpu && (options.mmprojUseGpu ?? gpuLayers !== 0);
        const withTower = headers.mmproj !== undefined && !options.vocabOnly;
        const tower = withTower ? visionAttentionShape(headers.mmproj!) : undefined;
        const mmprojFlashAttention = withTower
            ? await resolveFlashAttention(
                  options.mmprojFlashAttention,
                  gpu && mmprojUseGpu,
                  tower &&
                      (() =>
                          measureFlashAttention(
                              addon,
                              tower.shape,
                              visionWorkload(tower.shape, tower.patches),
                              mmprojThreads,
                          )),
              )
            : undefined;
        try {
            const native = await addon.loadModel(
                {
                    modelPath: options.model,
                    mmprojPath: options.mmproj,
                    gpuLayers,
                    useMmap: options.useMmap ?? true,
                    mmprojUseGpu,
                    mmprojThreads,
                    mmprojFlashAttention: mmprojFlashAttention?.value ?? 'off',
                    imageMaxTokens: options.imageMaxTokens,
                    vocabOnly: options.vocabOnly ?? false,
                    devices: placement.devices,
                },
                options.onProgress,
            );
            return new VisionModel(native, headers.model, headers.mmproj, mmprojFlashAttention, placement);
        } catch (error) {
            throw new ModelLoadError((error as Error).message, { cause: error });
        }
    }

    get closed(): boolean {
        return this.#native.closed;
    }

    /** @internal the addon, for the contexts' flash-attention probe. */
    get addon(): NativeAddon {
        return loadAddon();
    }

    /** @internal the native handle, for contexts. */
    get native(): NativeModel {
        if (this.#native.closed) throw new ClosedError('model');
        return this.#native;
    }

    async createContext(options: VisionContextOptions = {}): Promise<VisionContext> {
        const context = await VisionContext.create(this, options);
        this.#contexts.add(context);
        context.onClose(() => this.#contexts.delete(context));
        return context;
    }

    /**
     * Token ids as the model's Hugging Face tokenizer gives them: its normalizer (Qwen2: NFC) and its added tokens,
     * special ones only with `parseSpecial`. Given in parts, only the parts marked `parseSpecial` are searched for
     * special tokens (a chat template's text, not a client's).
     */
    tokenize(text: PromptText, { addSpecial = false, parseSpecial = true } = {}): Int32Array {
        return this.textTokenizer.tokenize(text, { addSpecial, parseSpecial });
    }

    detokenize(tokens: Int32Array | number[]): string {
        return this.native.detokenize(tokens);
    }

    /** Closes the model's contexts, then the model. Safe to call more than once. */
    async close(): Promise<void> {
        await Promise.all([...this.#contexts].map((c) => c.close()));
        this.#native.close();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }
}

/** clip.cpp's TN_IMAGE_NEWLINE as our converter writes it. */
export const IMAGE_NEWLINE_TENSOR = 'v.image_newline';

function visionInfo(header: GgufHeader): VisionInfo {
    const num = (key: string, fallback: number) => {
        const v = metaValue(header, key);
        return typeof v === 'number' ? v : fallback;
    };
    const nums = (key: string) => {
        const v = metaValue(header, key);
        return Array.isArray(v) ? v.map(Number) : [];
    };
    const flat = nums('clip.vision.image_grid_pinpoints');
    const gridPinpoints: Array<[number, number]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) gridPinpoints.push([flat[i]!, flat[i + 1]!]);
    const metadata: Record<string, unknown> = {};
    for (const [key, v] of header.metadata) metadata[key] = v.value;
    return {
        projectorType: String(metaValue(header, 'clip.projector_type') ?? 'mlp'),
        imageSize: num('clip.vision.image_size', 0),
        patchSize: num('clip.vision.patch_size', 0),
        gridPinpoints,
        imageMean: nums('clip.vision.image_mean'),
        imageStd: nums('clip.vision.image_std'),
        hasImageNewline: header.tensors.some((t) => t.name === IMAGE_NEWLINE_TENSOR),
        hasClassEmbedding: header.tensors.some((t) => t.name === 'v.class_embd'),
        metadata,
    };
}
