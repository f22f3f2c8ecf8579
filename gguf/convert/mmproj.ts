// The CLIP / SigLIP vision tower and the LLaVA MLP projector as an `mlp` mmproj: hyperparameters, the
// feature layer llama.cpp runs up to, and the tensors (blocks past the feature layer are left out).

import { GgufType } from '../types.js';
import type { GgufWriter } from '../writer.js';
import { int, num, type Json } from './config.js';
import { ConvertError } from './safetensors.js';
import type { TensorPlanner } from './tensor-planner.js';

export interface VisionSpec {
    tower: 'clip' | 'siglip';
    cfg: Json;
    /** prefix of `embeddings.` / `encoder.` in the checkpoint */
    base: string;
    /** prefix of `linear_1.` / `linear_2.` */
    projector: string;
    /** image_newline tensor name, when the model has one */
    imageNewline?: string;
    /** HF vision_feature_layer (negative counts from the end of hidden_states) */
    featureLayer: number;
    textEmbd: number;
    imageMean: number[];
    imageStd: number[];
    /** flattened pinpoints, as in the config */
    gridPinpoints?: number[];
    preprocessorConfig?: Json;
    extraStrings?: Record<string, string>;
}

/** Finds the tower prefix among the namings transformers has used. */
export function findPrefix(p: TensorPlanner, candidates: string[], probe: string, what: string): string {
    for (const c of candidates) if (p.has(c + probe)) return c;
    throw new ConvertError(
        `missing tensor: no ${what} found (looked for ${candidates.map((c) => `'${c}${probe}'`).join(', ')})`,
    );
}

export function planMmproj(w: GgufWriter, p: TensorPlanner, s: VisionSpec): { blocks: number } {
    const c = s.cfg;
    const where = 'vision_config';
    const E = int(c, 'hidden_size', where);
    const F = int(c, 'intermediate_size', where);
    const N = int(c, 'num_hidden_layers', where);
    const nHead = int(c, 'num_attention_heads', where);
    const P = int(c, 'patch_size', where);
    const S = int(c, 'image_size', where);
    const C = c.num_channels == null ? 3 : int(c, 'num_channels', where);
    if (C !== 3) throw new ConvertError(`${where}.num_channels ${C} is not supported (3 is)`);
    if (E % nHead)
        throw new ConvertError(`${where}: hidden_size ${E} is not a multiple of num_attention_heads ${nHead}`);
    // no divisibility check: SigLIP so400m-patch14-384 has 384 / 14 -> 27 x 27 patches (the conv drops the rest)
    const act = String(c.hidden_act);
    let useGelu: boolean;
    if (act === 'quick_gelu') useGelu = false;
    else if (act === 'gelu' || act === 'gelu_pytorch_tanh' || act === 'gelu_new') useGelu = true;
    else
        throw new ConvertError(
            `${where}.hidden_act '${act}' is not supported (quick_gelu, gelu, gelu_pytorch_tanh are)`,
        );
    // hidden_states[k] is the output of k encoder blocks (0 = the embeddings); llama.cpp runs `feature_layer` blocks
    const K = s.featureLayer < 0 ? N + s.featureLayer + 1 : s.featureLayer;
    if (!Number.isInteger(K) || K < 1 || K > N)
        throw new ConvertError(`vision_feature_layer ${s.featureLayer} is out of range for ${N} layers`);

    w.addBool('clip.has_vision_encoder', true);
    w.addBool('clip.has_text_encoder', false);
    w.addBool('clip.has_llava_projector', true);
    w.addString('clip.projector_type', 'mlp');
    w.addBool('clip.use_gelu', useGelu);
    w.addU32('clip.vision.image_size', S);
    w.addU32('clip.vision.patch_size', P);
    w.addU32('clip.vision.embedding_length', E);
    w.addU32('clip.vision.feed_forward_length', F);
    w.addU32('clip.vision.block_count', K);
    w.addArray('clip.vision.feature_layer', GgufType.INT32, [K]);
    w.addU32('clip.vision.projection_dim', s.textEmbd);
    w.addU32('clip.vision.attention.head_count', nHead);
    w.addF32('clip.vision.attention.layer_norm_epsilon', num(c, 'layer_norm_eps', where));
    if (s.imageMean.length !== 3 || s.imageStd.length !== 3)
        throw new ConvertError('image_mean / image_std must have 3 values');
    w.addArray('clip.vision.image_mean', GgufType.FLOAT32, s.imageMean);
    w.addArray('clip.vision.image_std', GgufType.FLOAT32, s.imageStd);
    if (s.gridPinpoints) w.addArray('clip.vision.image_grid_pinpoints', GgufType.INT32, s.gridPinpoints);
    w.addU32('llavaguard.vision.hf_num_hidden_layers', N);
    w.addI32('llavaguard.vision.hf_feature_layer', s.featureLayer);
    if (s.preprocessorConfig) w.addString('llavaguard.preprocessor_config', JSON.stringify(s.preprocessorConfig));
    for (const [k, v] of Object.entries(s.extraStrings ?? {})) w.addString(k, v);

    const b = s.base;
    const nPatch = Math.floor(S / P) ** 2; // integer division, as transformers' embeddings and clip.cpp
    const nPos = nPatch + (s.tower === 'clip' ? 1 : 0);
    p.add(w, 'v.patch_embd.weight', `${b}embeddings.patch_embedding.weight`, [E, 3, P, P], 'conv');
    if (s.tower === 'siglip') p.add(w, 'v.patch_embd.bias', `${b}embeddings.patch_embedding.bias`, [E], 'vector');
    if (s.tower === 'clip') p.add(w, 'v.class_embd', `${b}embeddings.class_embedding`, [E], 'vector');
    p.add(w, 'v.position_embd.weight', `${b}embeddings.position_embedding.weight`, [nPos, E], 'f32');
    if (s.tower === 'clip') {
        p.add(w, 'v.pre_ln.weight', `${b}pre_layrnorm.weight`, [E], 'vector');
        p.add(w, 'v.pre_ln.bias', `${b}pre_layrnorm.bias`, [E], 'vector');
    }
    for (let i = 0; i < K; i++) {
        const h = `${b}encoder.layers.${i}.`;
        const g = `v.blk.${i}.`;
        for (const [hn, gn] of [
            ['q_proj', 'attn_q'],
            ['k_proj', 'attn_k'],
            ['v_proj', 'attn_v'],
            ['out_proj', 'attn_out'],
        ] as const) {
            p.add(w, `${g}${gn}.weight`, `${h}self_attn.${hn}.weight`, [E, E], 'matrix');
            p.add(w, `${g}${gn}.bias`, `${h}self_attn.${hn}.bias`, [E], 'vector');
        }
        p.add(w, `${g}ln1.weight`, `${h}layer_norm1.weight`, [E], 'vector');
        p.add(w, `${g}ln1.bias`, `${h}layer_norm1.bias`, [E], 'vector');
        p.add(w, `${g}ln2.weight`, `${h}layer_norm2.weight`, [E], 'vector');
        p.add(w, `${g}ln2.bias`, `${h}layer_norm2.bias`, [E], 'vector');
        p.add(w, `${g}ffn_up.weight`, `${h}mlp.fc1.weight`, [F, E], 'matrix');
        p.add(w, `${g}ffn_up.bias`, `${h}mlp.fc1.bias`, [F], 'vector');
        p.add(w, `${g}ffn_down.weight`, `${h}mlp.fc2.weight`, [E, F], 'matrix');
        p.add(w, `${g}ffn_down.bias`, `${h}mlp.fc2.bias`, [E], 'vector');
    }
    const D = s.textEmbd;
    const q = s.projector;
    const hid = p.st.get(`${q}linear_1.weight`)?.shape[0] ?? D;
    p.add(w, 'mm.0.weight', `${q}linear_1.weight`, [hid, E], 'matrix');
    p.add(w, 'mm.0.bias', `${q}linear_1.bias`, [hid], 'vector');
    p.add(w, 'mm.2.weight', `${q}linear_2.weight`, [D, hid], 'matrix');
    p.add(w, 'mm.2.bias', `${q}linear_2.bias`, [D], 'vector');
    if (s.imageNewline) p.add(w, 'v.image_newline', s.imageNewline, [D], 'vector');
    return { blocks: K };
}

/** Tensors a LLaVA checkpoint has that llama.cpp's graph does not use. */
export function ignorableVisionTensor(name: string, base: string, usedBlocks: number): boolean {
    if (!name.startsWith(base)) return false;
    const rest = name.slice(base.length);
    if (rest.startsWith('post_layernorm.') || rest.startsWith('head.') || rest === 'embeddings.position_ids')
        return true;
    const m = /^encoder\.layers\.(\d+)\./.exec(rest);
    return !!m && Number(m[1]) >= usedBlocks;
}
