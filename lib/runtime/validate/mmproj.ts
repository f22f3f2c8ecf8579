// The mmproj's (vision tower + projector) hyper-parameters and tensor shapes, checked against what clip.cpp and
// mtmd assert on, divide by or dereference for the `mlp` projector (LLaVA-1.5, and LLaVA-OneVision with anyres
// image_grid_pinpoints). clip.cpp checks few shapes itself: a tensor of the wrong shape reaches ggml's graph
// building, whose GGML_ASSERTs abort the process; a missing tensor the graph uses is a null dereference.
// Line references are to deps/llama.cpp/tools/mtmd at the vendored revision.

import { GgufType, type GgufHeader } from '../../../gguf/types.js';
import { HeaderChecks, requireDivides } from './header-checks.js';
import { checkTensorTypes } from './tensor-types.js';

/** clip.cpp load_hparams sanity check: image_size <= 8192 (keeps n_patches in int32). */
const MAX_IMAGE_SIZE = 8192;
/** A bound on the tower's depth (real towers: 24-27 blocks). */
const MAX_VISION_BLOCKS = 512;
/** Bounds on anyres candidates: OneVision has 36 pairs and at most 6x6 tiles. */
const MAX_PINPOINT_PAIRS = 256;
const MAX_TILES_PER_PINPOINT = 64;

/**
 * Keys clip.cpp reads with a typed getter on our path, which GGML_ASSERTs the type (ggml/src/gguf.cpp get_val):
 * each key's check of its type, run where the key is present.
 */
const TYPED_KEYS: ReadonlyArray<[check: (c: HeaderChecks, key: string) => unknown, keys: readonly string[]]> = [
    [
        (c, key) => c.str(key),
        [
            'general.name',
            'general.description',
            'clip.projector_type',
            'clip.vision.projector_type',
            'clip.vision.mm_patch_merge_type',
        ],
    ],
    [
        (c, key) => c.bool(key),
        [
            'clip.has_vision_encoder',
            'clip.has_audio_encoder',
            'clip.has_gen_audio_encoder',
            'clip.use_gelu',
            'clip.use_silu',
        ],
    ],
    [(c, key) => c.i32(key), ['clip.minicpmv_version']],
    [(c, key) => c.u32(key, { min: 0 }), ['clip.minicpmv_query_num', 'clip.vision.projection_dim']],
];

export interface VisionShape {
    nEmbd: number;
    nHead: number;
    nLayer: number;
    imageSize: number;
    patchSize: number;
    /** Width of the projector's output: must be the text model's n_embd. */
    projectorOut: number;
}

export function validateMmproj(header: GgufHeader, path: string, textEmbd: number, modelPath: string): VisionShape {
    const c = new HeaderChecks(header, 'mmproj', path);
    for (const [check, keys] of TYPED_KEYS) for (const key of keys) if (c.has(key)) check(c, key);
    if (c.bool('clip.has_vision_encoder') !== true) c.fail('clip.has_vision_encoder is not true (no vision encoder)');
    // clip_init then loads an audio encoder with its own hyper-parameters (and asserts): we load images only.
    for (const key of ['clip.has_audio_encoder', 'clip.has_gen_audio_encoder']) {
        if (c.bool(key) === true) c.fail(`${key} is true: only vision projectors are supported`);
    }
    const projector = c.str('clip.projector_type', true) ?? c.str('clip.vision.projector_type', true);
    if (projector !== 'mlp') {
        c.fail(
            `clip.projector_type '${projector ?? '(none)'}' is not supported (supported: mlp, as LLaVA-1.5 and OneVision)`,
        );
    }
    if (c.bool('clip.use_gelu') === true && c.bool('clip.use_silu') === true) {
        c.fail('clip.use_gelu and clip.use_silu are both true');
    }

    const E = c.u32('clip.vision.embedding_length');
    // clip_graph: d_head = n_embd / n_head, kq_scale = 1/sqrt(d_head); Q, K, V are reshaped to [d_head, n_head]
    // (ggml_reshape_3d asserts the element count): 0 heads or a head count that does not divide n_embd aborts.
    const nHead = c.u32('clip.vision.attention.head_count', { max: E });
    requireDivides(c, 'clip.vision.attention.head_count', nHead, 'clip.vision.embedding_length', E);
    const headDim = c.u32('clip.vision.attention.head_dim', { optional: true, min: 0 });
    if (headDim !== undefined && headDim !== E / nHead) {
        c.fail(
            `clip.vision.attention.head_dim is ${headDim}, it must equal embedding_length / head_count = ${E / nHead}`,
        );
    }
    const nHeadKv = c.u32('clip.vision.attention.head_count_kv', { optional: true, min: 0 });
    if (nHeadKv !== undefined && nHeadKv !== nHead) {
        c.fail(`clip.vision.attention.head_count_kv is ${nHeadKv}, it must equal head_count (${nHead}) for this tower`);
    }
    const F = c.u32('clip.vision.feed_forward_length');
    const nLayer = c.u32('clip.vision.block_count', { max: MAX_VISION_BLOCKS });
    c.u32('clip.vision.projection_dim', { min: 0 });
    c.positiveF32('clip.vision.attention.layer_norm_epsilon');

    // load_hparams sanity check and clip_graph: n_patches = (image_size / patch_size)^2 in integer division, so a
    // patch size need not divide the image size (SigLIP, LlavaGuard v1.2's tower: 384 / 14 = 27 patches a side).
    const size = c.u32('clip.vision.image_size', { max: MAX_IMAGE_SIZE, maxWhy: "clip.cpp's maximum" });
    const patch = c.u32('clip.vision.patch_size', { max: size });
    checkNormalisation(c);
    checkPinpoints(c, size);
    // llava.cpp build(): the layer loop runs up to the deepest feature layer and indexes model.layers with it.
    const featureLayers = c.array('clip.vision.feature_layer', GgufType.INT32, MAX_VISION_BLOCKS);
    for (const l of (featureLayers ?? []) as number[]) {
        if (l > nLayer) c.fail(`clip.vision.feature_layer holds ${l}, past clip.vision.block_count (${nLayer})`);
    }

    const projectorOut = checkVisionTensors(c, { E, F, nLayer, size, patch });
    if (projectorOut !== textEmbd) {
        c.fail(
            `its projector outputs ${projectorOut}-wide embeddings but the text model '${modelPath}' is ${textEmbd} wide (a projector of another model?)`,
        );
    }
    // OneVision / LLaVA-1.6 row separator, added to the projected embeddings.
    c.shape('v.image_newline', [projectorOut], `the projector's ${projectorOut} outputs`, true);
    checkTensorTypes(c, ['v.patch_embd.weight']);
    return { nEmbd: E, nHead, nLayer, imageSize: size, patchSize: patch, projectorOut };
}

/** load_hparams: image_mean / image_std need 3 values; the pipeline divides by the std. */
function checkNormalisation(c: HeaderChecks): void {
    for (const key of ['clip.vision.image_mean', 'clip.vision.image_std']) {
        const values = c.array(key, GgufType.FLOAT32, 3) as number[] | undefined;
        if (values?.length !== 3) c.fail(`${key} must hold 3 values (one per RGB channel)`);
        for (const v of values) {
            if (!Number.isFinite(v) || (key.endsWith('std') && v <= 0)) {
                c.fail(`${key} holds ${v}: values must be finite${key.endsWith('std') ? ' and > 0' : ''}`);
            }
        }
    }
}

/**
 * load_hparams: pinpoints come in (width, height) pairs (odd count: a throw); mtmd-image.cpp's llava_uhd slicing
 * multiplies them (int) and cuts image_size tiles from the chosen one. A candidate must be a positive multiple of
 * image_size, no larger than clip's image-size bound, and cut into a bounded number of tiles.
 */
function checkPinpoints(c: HeaderChecks, size: number): void {
    const key = 'clip.vision.image_grid_pinpoints';
    const flat = c.array(key, GgufType.INT32, 2 * MAX_PINPOINT_PAIRS) as number[] | undefined;
    if (!flat) return;
    if (flat.length === 0 || flat.length % 2 !== 0)
        c.fail(`${key} must hold (width, height) pairs, not ${flat.length} values`);
    for (let i = 0; i < flat.length; i += 2) {
        const [w, h] = [flat[i]!, flat[i + 1]!];
        for (const v of [w, h]) {
            if (v <= 0 || v > MAX_IMAGE_SIZE || v % size !== 0) {
                c.fail(
                    `${key} holds ${w}x${h}: each side must be a multiple of clip.vision.image_size (${size}) up to ${MAX_IMAGE_SIZE}`,
                );
            }
        }
        if ((w / size) * (h / size) > MAX_TILES_PER_PINPOINT) {
            c.fail(`${key} holds ${w}x${h}: more than ${MAX_TILES_PER_PINPOINT} tiles of ${size}x${size}`);
        }
    }
}

/**
 * The tensors the llava graph (models/llava.cpp) uses, shape by shape. Returns the projector's output width.
 * clip.cpp's loader marks q/k/v, mm.0.bias, the position embeddings and mm.2 optional, but the mlp graph and
 * clip_n_mmproj_embd (mm_2_w->ne[1]) use them unconditionally.
 */
function checkVisionTensors(
    c: HeaderChecks,
    d: { E: number; F: number; nLayer: number; size: number; patch: number },
): number {
    const { E, F, nLayer, size, patch } = d;
    const e = `embedding_length ${E}`;
    c.shape('v.patch_embd.weight', [patch, patch, 3, E], `patch_size ${patch}, 3 channels, ${e}`);
    c.shape('v.patch_embd.bias', [E], e, true);
    const cls = c.shape('v.class_embd', [E], e, true);
    const nPos = Math.floor(size / patch) ** 2 + (cls ? 1 : 0);
    c.shape(
        'v.position_embd.weight',
        [E, nPos],
        `${e}, (image_size / patch_size)^2${cls ? ' + 1 class token' : ''} = ${nPos} positions`,
    );
    for (const ln of ['v.pre_ln', 'v.post_ln']) {
        c.shape(`${ln}.weight`, [E], e, true);
        c.shape(`${ln}.bias`, [E], e, true);
    }
    for (let i = 0; i < nLayer; i++) {
        const b = `v.blk.${i}.`;
        for (const w of ['attn_q', 'attn_k', 'attn_v', 'attn_out']) {
            c.shape(`${b}${w}.weight`, [E, E], e);
            c.shape(`${b}${w}.bias`, [E], e, true);
        }
        for (const ln of ['ln1', 'ln2']) {
            c.shape(`${b}${ln}.weight`, [E], e, true);
            c.shape(`${b}${ln}.bias`, [E], e, true);
        }
        // clip.cpp swaps up and down when ffn_down's rows are n_embd long (old conversions): accept either.
        const swapped = c.tensor(`${b}ffn_down.weight`)?.dims[0] === E && E !== F;
        const [up, down] = swapped ? ['ffn_down', 'ffn_up'] : ['ffn_up', 'ffn_down'];
        const ff = `${e}, feed_forward_length ${F}`;
        c.shape(`${b}${up}.weight`, [E, F], ff);
        c.shape(`${b}${up}.bias`, [F], ff, true);
        c.shape(`${b}${down}.weight`, [F, E], ff);
        c.shape(`${b}${down}.bias`, [E], ff, true);
        if (c.tensor(`${b}ffn_gate.weight`))
            c.fail(`tensor ${b}ffn_gate.weight: a gated FFN is not supported by the mlp projector`);
    }
    // A Yi-style projector (mm.3) turns the type into mlp_norm, whose graph needs mm.1, mm.3 and mm.4.
    if (c.tensor('mm.3.weight')) c.fail('tensor mm.3.weight: the mlp_norm (Yi-style) projector is not supported');
    const mm0 = c.tensor('mm.0.weight');
    if (!mm0) c.fail(`tensor mm.0.weight is missing (the mlp projector needs mm.0.weight and mm.2.weight)`);
    if (mm0.dims[0] !== E) c.fail(`mm.0.weight takes ${mm0.dims[0]} inputs but the vision tower is ${E} wide`);
    const H = mm0.dims[1] ?? 1;
    c.shape('mm.0.weight', [E, H], e);
    c.shape('mm.0.bias', [H], `mm.0.weight's ${H} outputs`);
    const mm2 = c.tensor('mm.2.weight');
    if (!mm2) c.fail(`tensor mm.2.weight is missing (the mlp projector needs mm.0.weight and mm.2.weight)`);
    if (mm2.dims[0] !== H) c.fail(`mm.2.weight takes ${mm2.dims[0]} inputs but mm.0.weight gives ${H}`);
    const D = mm2.dims[1] ?? 1;
    c.shape('mm.2.weight', [H, D], `mm.0.weight's ${H} outputs`);
    c.shape('mm.2.bias', [D], `mm.2.weight's ${D} outputs`);
    return D;
}
