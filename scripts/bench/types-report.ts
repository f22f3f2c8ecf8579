// What `npm run bench:types` (types.ts) prints: the markdown tables of its speed and fidelity parts, kept apart
// from the measurements because they only format results.

import { f0, f1, f2, mdTable } from './common.js';
import { fmtTypes } from './lib/tensor-types.js';
import type { FidelityResult } from './types-fidelity-configs.js';
import { N, P, type SpeedResult } from './types-speed.js';

/** best (the least disturbed on a shared host) and all rounds */
const bestOf = (xs: number[]) => `**${f1(Math.max(...xs))}** (${xs.map(f1).join(', ')})`;

export function speedTables(s: SpeedResult): string {
    const f16 = s.text.find((t) => t.type === 'F16')!;
    const best = (xs: number[]) => Math.max(...xs);
    const textTable = mdTable(
        [
            'text model',
            'file (MiB)',
            'matrices by type',
            'repacked for this CPU (llama.cpp load log)',
            `prefill pp${P} (tok/s): best (rounds)`,
            `decode tg${N} (tok/s): best (rounds)`,
            'prefill / decode vs F16 (best)',
            'llama-bench peak RSS (MiB)',
        ],
        s.text.map((t) => [
            t.type,
            f0(t.fileMiB),
            fmtTypes(t.tensorTypes),
            t.repack.tensors > 0
                ? `${t.repack.tensors} matrices, ${f0(t.repack.mib)} MiB (${t.repack.layouts.join(', ')})`
                : 'no',
            bestOf(t.pp),
            bestOf(t.tg),
            `${f2(best(t.pp) / best(f16.pp))} / ${f2(best(t.tg) / best(f16.tg))}`,
            f0(t.peakRssMiB),
        ]),
    );
    const kvTable = mdTable(
        [
            'KV cache K/V (Q8_0 model)',
            'flash attention',
            `prefill pp${P} (tok/s): best (rounds)`,
            `decode tg${N} (tok/s): best (rounds)`,
        ],
        s.kv.map((k) => [`${k.k}/${k.v}`, k.flashAttention ? 'on' : 'off', bestOf(k.pp), bestOf(k.tg)]),
    );
    const kvSize = mdTable(
        [`KV cache at ${s.kvMiB[0]?.cells} cells (MiB)`, 'f16/f16', 'q8_0/f16', 'q8_0/q8_0'],
        s.kvMiB.map((k) => [k.shapes, f0(k.mib['f16/f16']!), f0(k.mib['q8_0/f16']!), f0(k.mib['q8_0/q8_0']!)]),
    );
    const mmTable = mdTable(
        [
            'mmproj',
            'file (MiB)',
            `encode, one tile of ${s.imageTokens} tokens (s): best (all)`,
            'embeddings vs F16 (rel. L2)',
        ],
        s.mmproj.map((m) => [
            m.type,
            f0(m.fileMiB),
            `**${f2(Math.min(...m.encodeMs) / 1000)}** (${m.encodeMs.map((x) => f2(x / 1000)).join(', ')})`,
            m.embedRelL2VsF16 === undefined ? '-' : m.embedRelL2VsF16.toExponential(2),
        ]),
    );
    const scoreTable = mdTable(
        [
            'one score() in a fresh process',
            'peak RSS (MiB)',
            'of it before loading (MiB)',
            'encode (s)',
            'prompt (s)',
            'wall (s)',
        ],
        s.score.map((r) => [
            `${r.text} text + ${r.mmproj} mmproj (${r.promptTokens} prompt tokens, ${r.imageTokens} image)`,
            f0(r.peakRssMiB),
            f0(r.baseRssMiB),
            f2(r.encodeMs / 1000),
            f2(r.promptMs / 1000),
            f2(r.wallMs / 1000),
        ]),
    );
    return [
        `Speed: shape-faithful ${s.model} pair (random weights run at the real weights' speed), llama-bench -p ${P} -n ${N} -t ${s.settings.threads} -ub ${s.settings.ubatch} -r 1, ${s.settings.rounds} rounds over all configurations; flash attention off unless the row says on.`,
        '',
        textTable,
        '',
        kvTable,
        '',
        kvSize,
        '',
        `Vision encoder through our addon (types-encode.ts: VisionContext.encodeImages, ${s.settings.threads} threads, flash attention off), with the Q8_0 text model:`,
        '',
        mmTable,
        '',
        "Memory of one assessment (run-guard.ts: LlavaGuard.load + score() on the 384x384 photo, llama.cpp image pipeline, flash attention off, the library's default context):",
        '',
        scoreTable,
    ].join('\n');
}

const sci = (x: number | undefined) =>
    x === undefined || !Number.isFinite(x) ? '-' : x === 0 ? '0' : x.toExponential(1);

export function fidelityTables(r: FidelityResult): string {
    const out: string[] = [];
    for (const family of Object.keys(r.fixtures)) {
        const rows = r.rows.filter((x) => x.family === family);
        out.push(
            `Fidelity, tiny ${family} checkpoint (${r.fixtures[family]}), ${rows[0]?.pictures ?? 0} pictures, default policy; against F32 weights, F32 mmproj, F32 KV cache, flash attention off. Matrices by type: ${Object.entries(
                r.tensorTypes[family] ?? {},
            )
                .map(([t, c]) => `${t}: ${fmtTypes(c)}`)
                .join('; ')}. score-mode check |ΔP(Unsafe)| vs LlavaGuard.score(): ${sci(r.scoreModeCheck[family])}.`,
            '',
            mdTable(
                [
                    'configuration',
                    'first-token logits: max abs diff',
                    'max abs diff / max abs ref',
                    'KL(ref, type), max (nats)',
                    'top-1 same',
                    'P(Unsafe)',
                    'max abs ΔP(Unsafe)',
                    'image embeddings rel. L2 vs F32 / vs F16 mmproj',
                ],
                rows.map((x) => [
                    x.config.label,
                    sci(x.maxAbsLogitDiff),
                    sci(x.relLogitDiff),
                    sci(x.klMax),
                    `${x.top1Agree}/${x.pictures}`,
                    x.pUnsafe.map((p) => p.toFixed(3)).join(' '),
                    sci(x.maxAbsDeltaPUnsafe),
                    x.embedRelL2VsF32 === undefined
                        ? '-'
                        : `${sci(x.embedRelL2VsF32)} / ${x.embedRelL2VsF16 === undefined ? '-' : sci(x.embedRelL2VsF16)}`,
                ]),
            ),
            '',
        );
    }
    out.push(
        "Tiny random checkpoints (2 text layers of width 128, 3 vision layers of width 64, Gaussian weights) exaggerate or understate the real models' quantization error in unknown ways: no outlier channels, few layers to accumulate error, k-quants falling back on rows of 128. Read the figures as an ordering of the types, not as task accuracy.",
    );
    return out.join('\n');
}
