import type { EncodedImage, EncodedImageHandle, ImageEmbeddingsHandle, ImagePixels } from '../runtime/types.js';
import type { VisionModel } from '../runtime/VisionModel.js';
import type { RgbImage } from '../image/types.js';
import {
    oneVisionResizedImages,
    packFeatures,
    planOneVision,
    preprocessLlava15,
    resizeBicubicPil,
    windowToRgb,
} from '../preprocess/index.js';
import { readImageNewline } from './image-newline.js';
import { selectImagePipeline, type PipelineChoice } from './select.js';
import type { ImagePipelineMode, ImagePipelineName, PreparedImage } from './types.js';

/** Where the tiles are encoded: a context (or its direct form inside an exclusive operation). */
export interface ImageEncoder {
    encodeImages(images: ImagePixels[], options?: EncoderCallOptions): Promise<EncodedImage[]>;
    /** When offered (a context, its scheduler): the embeddings stay native and are packed there. */
    encodeImageHandles?(images: ImagePixels[], options?: EncoderCallOptions): Promise<EncodedImageHandle[]>;
}

export interface EncoderCallOptions {
    signal?: AbortSignal;
    /** Encoder inputs of one size per graph (see {@link ImagePipelineOptions.encodeBatch}). */
    batch?: number;
}

export interface ImagePipelineOptions {
    /** How many encoder inputs of one picture go through the encoder as one graph (1-64, default 1). */
    encodeBatch?: number;
}

const asNative = (img: { data: Uint8Array; width: number; height: number }): ImagePixels => ({
    data: img.data,
    width: img.width,
    height: img.height,
});

/** Frees what a prepared image holds in native memory (its embeddings handles); the GC would, later. */
export function releasePreparedImage(prepared: PreparedImage): void {
    for (const e of prepared.embeddings ?? []) (e as Partial<ImageEmbeddingsHandle>).dispose?.();
}

/** The image pipeline of one model, chosen from its metadata: pixels as in training, then tokens for a prompt. */
export class ImagePipeline {
    readonly choice: PipelineChoice;
    /** Encoder inputs per graph (1: one by one). */
    readonly encodeBatch: number;
    readonly #model: VisionModel;
    readonly #newline: Float32Array | undefined;

    private constructor(
        model: VisionModel,
        choice: PipelineChoice,
        newline: Float32Array | undefined,
        encodeBatch: number,
    ) {
        this.#model = model;
        this.choice = choice;
        this.#newline = newline;
        this.encodeBatch = encodeBatch;
    }

    static async create(
        model: VisionModel,
        mode: ImagePipelineMode = 'faithful',
        options: ImagePipelineOptions = {},
    ): Promise<ImagePipeline> {
        if (!['faithful', 'fast', 'llama.cpp'].includes(mode)) {
            throw new TypeError(`imagePipeline must be 'faithful', 'fast' or 'llama.cpp', got ${JSON.stringify(mode)}`);
        }
        const encodeBatch = options.encodeBatch ?? 1;
        if (!Number.isInteger(encodeBatch) || encodeBatch < 1 || encodeBatch > 64) {
            throw new RangeError(`encodeBatch must be an integer from 1 to 64, got ${String(options.encodeBatch)}`);
        }
        const choice = selectImagePipeline(model.vision, mode);
        const newline =
            choice.name === 'onevision-anyres'
                ? await readImageNewline(model.info.mmprojPath, model.info.nEmbd)
                : undefined;
        return new ImagePipeline(model, choice, newline, encodeBatch);
    }

    get name(): ImagePipelineName {
        return this.choice.name;
    }

    /**
     * Largest side worth decoding, undefined for full resolution: the faithful pipelines resize from the
     * original picture as transformers does (a pre-shrunk picture would give other pixels).
     */
    get maxDecodeSide(): number | undefined {
        const v = this.#model.vision;
        if (!v?.imageSize) return undefined;
        if (this.name === 'llama.cpp') return Math.max(v.imageSize, ...v.gridPinpoints.flat());
        return undefined;
    }

    /** Embeddings of one encoder input (27 x 27 for SigLIP 384/14). */
    get tileTokens(): number {
        const v = this.#model.vision;
        return v?.patchSize ? Math.floor(v.imageSize / v.patchSize) ** 2 : 0;
    }

    /** Upper bound of the embeddings one image can take (for sizing the context). */
    get maxImageTokens(): number {
        const v = this.#model.vision;
        if (!v?.patchSize) return 0;
        const perTile = this.tileTokens;
        const side = Math.sqrt(perTile);
        const c = this.choice.onevision;
        if (this.name === 'onevision-anyres' && c) {
            const maxRows = Math.max(...c.gridPinpoints.map(([h]) => Math.ceil(h / c.imageSize))) * side;
            // downsampling keeps at most ~1.1^2 x N tiles of features; one newline per feature row
            return perTile + Math.ceil(1.21 * c.maxNumPatches * perTile) + maxRows + 1;
        }
        if (this.name !== 'llama.cpp') return perTile;
        const maxTiles = v.gridPinpoints.reduce(
            (m, [w, h]) => Math.max(m, Math.ceil(w / v.imageSize) * Math.ceil(h / v.imageSize)),
            0,
        );
        return (perTile + 1) * (maxTiles + 1);
    }

    async prepare(rgb: RgbImage, encoder: ImageEncoder, signal?: AbortSignal): Promise<PreparedImage> {
        const perTile = this.tileTokens;
        switch (this.choice.name) {
            case 'llama.cpp':
                return { pipeline: 'llama.cpp', imageTokens: -1, images: [asNative(rgb)], encodeMs: 0 };
            case 'llava15-pad': {
                const { resized } = preprocessLlava15(rgb, this.choice.llava15);
                return { pipeline: 'llava15-pad', imageTokens: perTile, images: [asNative(resized)], encodeMs: 0 };
            }
            case 'onevision-fast': {
                const s = this.choice.onevision!.imageSize;
                return {
                    pipeline: 'onevision-fast',
                    imageTokens: perTile,
                    images: [asNative(resizeBicubicPil(rgb, s, s))],
                    encodeMs: 0,
                };
            }
            case 'onevision-anyres':
                return this.#prepareAnyres(rgb, encoder, perTile, signal);
        }
    }

    async #prepareAnyres(
        rgb: RgbImage,
        encoder: ImageEncoder,
        perTile: number,
        signal: AbortSignal | undefined,
    ): Promise<PreparedImage> {
        const config = this.choice.onevision!;
        const plan = planOneVision({ width: rgb.width, height: rgb.height }, config);
        const { resized, overview } = oneVisionResizedImages(rgb, plan, config);
        const tiles = plan.tiles.map((t) =>
            windowToRgb(resized, t.x - plan.padOffset.x, t.y - plan.padOffset.y, t.size),
        );
        if (encoder.encodeImageHandles) {
            const handles = await encoder.encodeImageHandles([overview, ...tiles].map(asNative), {
                signal,
                batch: this.encodeBatch,
            });
            try {
                for (const e of handles) {
                    if (e.nTokens !== perTile)
                        throw new Error(
                            `the vision encoder made ${e.nTokens} embeddings of a tile; ${perTile} expected`,
                        );
                }
                const packed = this.#model.addon.packOneVisionFeatures({
                    overview: handles[0]!.embeddings,
                    tiles: handles.slice(1).map((e) => e.embeddings),
                    newline: this.#newline!,
                    featuresPerSide: plan.featuresPerSide,
                    gridCols: plan.grid.cols,
                    unpadded: plan.unpadded,
                    ...(plan.downsampled ? { downsampled: plan.downsampled } : {}),
                    totalTokens: plan.tokens.total,
                });
                return {
                    pipeline: 'onevision-anyres',
                    imageTokens: plan.tokens.total,
                    embeddings: [packed],
                    encodeMs: handles.reduce((s, e) => s + e.encodeMs, 0),
                };
            } finally {
                for (const e of handles) e.embeddings.dispose();
            }
        }
        const encoded = await encoder.encodeImages([overview, ...tiles].map(asNative), {
            signal,
            batch: this.encodeBatch,
        });
        for (const e of encoded) {
            if (e.nTokens !== perTile)
                throw new Error(`the vision encoder made ${e.nTokens} embeddings of a tile; ${perTile} expected`);
        }
        const data = packFeatures(
            encoded.slice(1).map((e) => e.embeddings),
            encoded[0]!.embeddings,
            this.#newline!,
            plan,
        );
        return {
            pipeline: 'onevision-anyres',
            imageTokens: plan.tokens.total,
            embeddings: [{ data, nTokens: plan.tokens.total }],
            encodeMs: encoded.reduce((s, e) => s + e.encodeMs, 0),
        };
    }
}
