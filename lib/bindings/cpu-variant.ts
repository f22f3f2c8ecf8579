import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One of ggml's CPU backend builds (`libggml-cpu-<name>.so`), with the score it gave for this CPU. */
export interface CpuVariant {
    name: string;
    path: string;
    /** 0: this CPU lacks an instruction set the variant needs. */
    score: number;
    /** Why it was passed over, if it was. */
    skipped?: string;
}

export interface CpuVariantChoice {
    chosen: CpuVariant;
    variants: CpuVariant[];
    reason: string;
}

/**
 * Variants compiled with AMX. ggml's score checks CPUID only, and hosts exist that advertise AMX and trap on it
 * (SIGILL in the first quantized matrix product), so these run only when the user opts in.
 */
export const AMX_VARIANTS: readonly string[] = ['sapphirerapids'];

const VARIANT_FILE = /^(?:lib)?ggml-cpu-(.+)\.(?:so|dll|dylib)$/;

/** The CPU variant files in a folder, by name (`libggml-cpu-zen4.so` → `zen4`). */
export function listCpuVariants(folder: string): { name: string; path: string }[] {
    return readdirSync(folder)
        .map((file) => ({ file, m: VARIANT_FILE.exec(file) }))
        .filter((f) => f.m !== null)
        .map((f) => ({ name: f.m![1], path: join(folder, f.file) }))
        .sort((a, b) => a.name.localeCompare(b.name));
}

export interface CpuVariantOptions {
    /** Allow the AMX variants (LLAVAGUARD_CPU_AMX=1). */
    allowAmx?: boolean;
    /** Take this variant whatever the scores say (LLAVAGUARD_CPU_VARIANT), e.g. to test a CPU without AVX-512. */
    force?: string;
}

/** The best-scoring variant this CPU can run, leaving out AMX unless allowed. Pure: the scores come in. */
export function chooseCpuVariant(scored: readonly CpuVariant[], options: CpuVariantOptions = {}): CpuVariantChoice {
    const variants = scored.map((v) => ({ ...v }));
    if (options.force) {
        const chosen = variants.find((v) => v.name === options.force);
        if (!chosen) {
            throw new Error(
                `LLAVAGUARD_CPU_VARIANT=${options.force}: no such CPU variant (have: ${variants.map((v) => v.name).join(', ')})`,
            );
        }
        if (chosen.score === 0) {
            throw new Error(`LLAVAGUARD_CPU_VARIANT=${options.force}: this CPU cannot run that variant (score 0)`);
        }
        return { chosen, variants, reason: `forced by LLAVAGUARD_CPU_VARIANT=${options.force}` };
    }
    let best: CpuVariant | undefined;
    for (const v of variants) {
        if (v.score <= 0) {
            v.skipped = 'this CPU lacks an instruction set it needs';
        } else if (AMX_VARIANTS.includes(v.name) && !options.allowAmx) {
            v.skipped = 'uses AMX (traps on some hosts that advertise it); LLAVAGUARD_CPU_AMX=1 allows it';
        } else if (!best || v.score > best.score) {
            best = v;
        }
    }
    if (!best)
        throw new Error(`no ggml CPU variant runs on this CPU (tried ${variants.map((v) => v.name).join(', ')})`);
    const passedAmx = variants.some((v) => v.skipped?.startsWith('uses AMX') && v.score > best.score);
    return {
        chosen: best,
        variants,
        reason: `highest score (${best.score})${passedAmx ? ' once the AMX variant was left out' : ''}`,
    };
}
