// The tensors of a LLaVA-1.5 (LLaMA + CLIP) or LLaVA-OneVision (Qwen2 + SigLIP) Hugging Face checkpoint, by
// name and shape, with their init scales: one list for the tiny folders and the full-size ones.

export interface TinyHfDims {
    nVocab: number;
    nEmbd: number;
    nHead: number;
    nHeadKv: number;
    nFf: number;
    nLayer: number;
    vEmbd: number;
    vFf: number;
    vLayer: number;
    vHead: number;
    imageSize: number;
    patchSize: number;
}

/** One checkpoint tensor before it has values: uniform with standard deviation `std` around `mean`. */
export interface HfTensorSpec {
    name: string;
    shape: number[];
    std: number;
    mean: number;
}

export type HfNaming = 'legacy' | 'current';

/** The tensor names of the two namings transformers has used for LLaVA checkpoints. */
export function hfPrefixes(naming: HfNaming): { lm: string; head: string; vt: string; mp: string; newline: string } {
    const legacy = naming === 'legacy';
    return {
        lm: legacy ? 'language_model.model.' : 'model.language_model.',
        head: legacy ? 'language_model.lm_head.weight' : 'lm_head.weight',
        vt: (legacy ? 'vision_tower.' : 'model.vision_tower.') + 'vision_model.',
        mp: legacy ? 'multi_modal_projector.' : 'model.multi_modal_projector.',
        newline: legacy ? 'image_newline' : 'model.image_newline',
    };
}

/**
 * Every tensor a LLaVA-1.5 (LLaMA + CLIP) or LLaVA-OneVision (Qwen2 + SigLIP) checkpoint of these dims
 * stores, with the init scale: 1/sqrt(fan_in) for matrices, ~1 for norm weights. Used by the tiny
 * folders here and by the full-size ones of shaped-hf.ts.
 */
export function hfTensorSpecs(
    family: 'llava15' | 'onevision',
    d: TinyHfDims,
    naming: HfNaming = 'legacy',
): HfTensorSpec[] {
    const ov = family === 'onevision';
    const { lm, head, vt, mp, newline } = hfPrefixes(naming);
    const specs: HfTensorSpec[] = [];
    const rnd = (name: string, shape: number[], std: number, mean = 0) => void specs.push({ name, shape, std, mean });
    const kv = (d.nEmbd / d.nHead) * d.nHeadKv;
    rnd(`${lm}embed_tokens.weight`, [d.nVocab, d.nEmbd], 0.1);
    rnd(`${lm}norm.weight`, [d.nEmbd], 0.05, 1);
    if (!ov) rnd(head, [d.nVocab, d.nEmbd], 0.1);
    const s = 1 / Math.sqrt(d.nEmbd);
    for (let i = 0; i < d.nLayer; i++) {
        const p = `${lm}layers.${i}.`;
        rnd(`${p}input_layernorm.weight`, [d.nEmbd], 0.05, 1);
        rnd(`${p}post_attention_layernorm.weight`, [d.nEmbd], 0.05, 1);
        rnd(`${p}self_attn.q_proj.weight`, [d.nEmbd, d.nEmbd], s);
        rnd(`${p}self_attn.k_proj.weight`, [kv, d.nEmbd], s);
        rnd(`${p}self_attn.v_proj.weight`, [kv, d.nEmbd], s);
        rnd(`${p}self_attn.o_proj.weight`, [d.nEmbd, d.nEmbd], s);
        if (ov) {
            rnd(`${p}self_attn.q_proj.bias`, [d.nEmbd], 0.02);
            rnd(`${p}self_attn.k_proj.bias`, [kv], 0.02);
            rnd(`${p}self_attn.v_proj.bias`, [kv], 0.02);
        }
        rnd(`${p}mlp.gate_proj.weight`, [d.nFf, d.nEmbd], s);
        rnd(`${p}mlp.up_proj.weight`, [d.nFf, d.nEmbd], s);
        rnd(`${p}mlp.down_proj.weight`, [d.nEmbd, d.nFf], 1 / Math.sqrt(d.nFf));
    }
    const E = d.vEmbd;
    const P = d.patchSize;
    // integer division, as transformers and clip.cpp: SigLIP's 384 / 14 -> 27 x 27 patches
    const nPatch = Math.floor(d.imageSize / P) ** 2;
    rnd(`${vt}embeddings.patch_embedding.weight`, [E, 3, P, P], 1 / Math.sqrt(3 * P * P));
    if (ov) rnd(`${vt}embeddings.patch_embedding.bias`, [E], 0.02);
    else {
        rnd(`${vt}embeddings.class_embedding`, [E], 0.1);
        rnd(`${vt}pre_layrnorm.weight`, [E], 0.05, 1);
        rnd(`${vt}pre_layrnorm.bias`, [E], 0.02);
    }
    rnd(`${vt}embeddings.position_embedding.weight`, [nPatch + (ov ? 0 : 1), E], 0.1);
    for (let i = 0; i < d.vLayer; i++) {
        const p = `${vt}encoder.layers.${i}.`;
        for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
            rnd(`${p}self_attn.${n}.weight`, [E, E], 1 / Math.sqrt(E));
            rnd(`${p}self_attn.${n}.bias`, [E], 0.02);
        }
        for (const n of ['layer_norm1', 'layer_norm2']) {
            rnd(`${p}${n}.weight`, [E], 0.05, 1);
            rnd(`${p}${n}.bias`, [E], 0.02);
        }
        rnd(`${p}mlp.fc1.weight`, [d.vFf, E], 1 / Math.sqrt(E));
        rnd(`${p}mlp.fc1.bias`, [d.vFf], 0.02);
        rnd(`${p}mlp.fc2.weight`, [E, d.vFf], 1 / Math.sqrt(d.vFf));
        rnd(`${p}mlp.fc2.bias`, [E], 0.02);
    }
    rnd(`${vt}post_layernorm.weight`, [E], 0.05, 1);
    rnd(`${vt}post_layernorm.bias`, [E], 0.02);
    rnd(`${mp}linear_1.weight`, [d.nEmbd, E], 1 / Math.sqrt(E));
    rnd(`${mp}linear_1.bias`, [d.nEmbd], 0.02);
    rnd(`${mp}linear_2.weight`, [d.nEmbd, d.nEmbd], s);
    rnd(`${mp}linear_2.bias`, [d.nEmbd], 0.02);
    if (ov) rnd(newline, [d.nEmbd], 0.1);
    return specs;
}
