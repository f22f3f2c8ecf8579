// What the fidelity part of `npm run bench:types` (types-fidelity.ts) compares and what it returns: the
// configurations against the F32 reference, and the result types that types.ts prints and writes as JSON.

import type { CacheType } from '../../lib/runtime/validate/kv-cache.js';

export type Family = 'onevision' | 'llava15';
export type TextType = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_k_m';
export type MmprojType = 'f32' | 'f16' | 'q8_0';

export interface FidelityConfig {
    /** the table's row label */
    label: string;
    group: 'text weights' | 'mmproj' | 'KV cache' | 'as shipped';
    text: TextType;
    mmproj: MmprojType;
    cache: CacheType;
    flashAttention: 'on' | 'off';
}

/** The reference: everything F32, flash attention off (the path the reference checks compare with transformers). */
export const REF: FidelityConfig = {
    label: 'F32 (reference)',
    group: 'text weights',
    text: 'f32',
    mmproj: 'f32',
    cache: 'f32',
    flashAttention: 'off',
};

/** Each type alone against F32 (the rest F32, flash attention off unless the type needs it), then the combinations a user gets. */
export const FIDELITY_CONFIGS: readonly FidelityConfig[] = [
    REF,
    ...(['f16', 'bf16', 'q8_0', 'q4_0', 'q4_k_m'] as const).map(
        (t): FidelityConfig => ({ ...REF, label: `text ${t.toUpperCase()}`, text: t }),
    ),
    ...(['f16', 'q8_0'] as const).map(
        (m): FidelityConfig => ({ ...REF, label: `mmproj ${m.toUpperCase()}`, group: 'mmproj', mmproj: m }),
    ),
    { ...REF, label: 'KV F16, FA off', group: 'KV cache', cache: 'f16' },
    { ...REF, label: 'KV F16, FA on', group: 'KV cache', cache: 'f16', flashAttention: 'on' },
    // llama.cpp refuses a quantized V cache without flash attention (llama-context.cpp)
    { ...REF, label: 'KV Q8_0, FA on', group: 'KV cache', cache: 'q8_0', flashAttention: 'on' },
    {
        label: '`convert --type f16` (F16 + F16 mmproj, KV F16)',
        group: 'as shipped',
        text: 'f16',
        mmproj: 'f16',
        cache: 'f16',
        flashAttention: 'off',
    },
    {
        label: '`convert --type q8_0` (Q8_0 + Q8_0 mmproj, KV F16)',
        group: 'as shipped',
        text: 'q8_0',
        mmproj: 'q8_0',
        cache: 'f16',
        flashAttention: 'off',
    },
    {
        label: 'Q8_0 + F16 mmproj, KV F16',
        group: 'as shipped',
        text: 'q8_0',
        mmproj: 'f16',
        cache: 'f16',
        flashAttention: 'off',
    },
    {
        label: 'Q8_0 + Q8_0 mmproj, KV Q8_0 (FA on)',
        group: 'as shipped',
        text: 'q8_0',
        mmproj: 'q8_0',
        cache: 'q8_0',
        flashAttention: 'on',
    },
    {
        label: 'Q4_0 + F16 mmproj, KV F16',
        group: 'as shipped',
        text: 'q4_0',
        mmproj: 'f16',
        cache: 'f16',
        flashAttention: 'off',
    },
    {
        label: 'Q4_K_M + F16 mmproj, KV F16',
        group: 'as shipped',
        text: 'q4_k_m',
        mmproj: 'f16',
        cache: 'f16',
        flashAttention: 'off',
    },
];

export interface FidelityRow {
    family: Family;
    config: FidelityConfig;
    /** per picture: the first answer token's logits against the reference */
    maxAbsLogitDiff: number;
    /** max|d| / max|ref logit| */
    relLogitDiff: number;
    /** KL(P_ref || P) of the first answer token's distribution, nats: the largest over the pictures */
    klMax: number;
    klMean: number;
    top1Agree: number;
    pictures: number;
    pUnsafe: number[];
    maxAbsDeltaPUnsafe: number;
    /** image embeddings of tile-size pictures, ||e - e_ref|| / ||e_ref|| against the F32 and F16 mmproj */
    embedRelL2VsF32?: number;
    embedRelL2VsF16?: number;
}

export interface FidelityResult {
    rows: FidelityRow[];
    /** tensors by ggml type in each text model (what a type means on these shapes: k-quants fall back) */
    tensorTypes: Record<string, Record<string, Record<string, number>>>;
    /** |P(Unsafe) here - LlavaGuard.score()| on the check configuration, per family */
    scoreModeCheck: Record<string, number>;
    fixtures: Record<string, string>;
}
