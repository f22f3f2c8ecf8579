// What `npm run bench -- --photos` (photos.ts) reports: the markdown tables and the JSON of its results, kept
// apart from the runs, which they only format.

import path from 'node:path';

import { f0, f1, f2, f3, mdTable, median } from './common.js';
import type { PhotoResults } from './photos.js';

const s1 = (ms: number) => f1(ms / 1000);

export function photosReport(r: PhotoResults): string {
    const head = [
        'photo',
        'ours image tokens',
        'ours encode (s)',
        'ours prefill (s)',
        'ours decode (s)',
        'ours total (s)',
        'floor encode (s)',
        'floor prefill (s)',
        'floor decode (s)',
        'floor total (s)',
        'ours / floor',
        'llama-mtmd-cli image tokens',
        'llama-mtmd-cli encode (s)',
        'llama-mtmd-cli prefill (s)',
        'llama-mtmd-cli decode (s)',
        'llama-mtmd-cli total (s)',
    ];
    const rows = r.sizes.map((f) => [
        `${f.width}x${f.height}`,
        f0(f.ours.imageTokens),
        s1(f.ours.encodeMs),
        s1(f.ours.prefillMs),
        s1(f.ours.decodeMs),
        s1(f.ours.totalMs),
        s1(f.floor.encodeMs),
        s1(f.floor.prefillMs),
        s1(f.floor.decodeMs),
        s1(f.floor.totalMs),
        `**${f3(f.oursVsFloor)}**`,
        f.cli ? f0(f.cli.imageTokens) : '-',
        f.cli ? s1(f.cli.encodeMs) : '-',
        f.cli ? s1(f.cli.prefillMs) : '-',
        f.cli ? s1(f.cli.decodeMs) : '-',
        f.cli ? s1(f.cli.totalMs) : '-',
    ]);
    const details = mdTable(
        [
            'photo',
            'faithful plan: grid / encoder inputs',
            'ours prompt tokens / generated',
            'ours other (s): PNG decode, resize, tiles, packing',
            'floor: s/tile x tiles',
            'floor: llama-bench prefill (tokens/s)',
            'floor: decode at depth (tokens/s)',
            'ours total runs (s)',
            'llama-mtmd-cli prompt tokens / generated',
            'llama-mtmd-cli total runs (s)',
            'ours / llama-mtmd-cli',
        ],
        r.sizes.map((f) => [
            `${f.width}x${f.height}`,
            `${f.plan.grid.cols}x${f.plan.grid.rows} / ${f.plan.tiles}`,
            `${f0(f.ours.promptTokens)} / ${f0(f.ours.generated)}`,
            s1(f.ours.otherMs),
            `${f2(f.floor.tileEncodeMs / 1000)} x ${f.floor.tiles}`,
            `${f1(f.floor.prefillTokS)} (${f.floor.prefillSamplesTokS.map(f1).join(', ')})`,
            `${f1(f.floor.decodeTokS)} (${f.floor.decodeSamplesTokS.map(f1).join(', ')})`,
            f.oursRuns.map((x) => s1(x.totalMs)).join(', '),
            f.cli ? `${f0(f.cli.promptTokens)} / ${f0(f.cli.generated)}` : '-',
            f.cliRuns.map((x) => s1(x.totalMs)).join(', ') || '-',
            f3(f.oursVsCli),
        ]),
    );
    const loads = r.loads.filter(Number.isFinite);
    const b = r.batchedEncode;
    const batched = !b
        ? ''
        : [
              `### Batched tile encode: one photo's ${b.tiles} encoder inputs tile by tile vs as one graph`,
              '',
              mdTable(
                  ['path', 'runs (s)', 'median (s)', 'peak RSS after the first (MiB)'],
                  [
                      [
                          'tile by tile',
                          b.tileByTileMs.map(s1).join(', '),
                          s1(median(b.tileByTileMs)),
                          f0(b.peakRssTileByTileMiB),
                      ],
                      [
                          'one graph (batch)',
                          b.batchedMs.map(s1).join(', '),
                          s1(median(b.batchedMs)),
                          f0(b.peakRssBatchedMiB),
                      ],
                      ...(b.otherSizes ?? []).map((o) => [
                          `graphs of ${o.batch} (${f3(median(o.ms) / median(b.tileByTileMs))} of tile by tile)`,
                          o.ms.map(s1).join(', '),
                          s1(median(o.ms)),
                          '-',
                      ]),
                  ],
              ),
              '',
              `**batchedEncodeVsTiles = ${f3(r.batchedEncodeVsTiles!)}** (target <= 1.0 on the CPU)`,
              '',
          ].join('\n');
    if (!r.sizes.length) return batched;
    return [
        batched,
        `### Photos: ours (faithful pipeline) vs its floor vs llama-mtmd-cli (its own tiling), one verdict each`,
        '',
        `${r.threads} threads, micro-batch ${r.ubatch}; flash attention: ours and the floor text model ${r.flashAttention.text}, encoder ${r.flashAttention.vision}${r.flashAttentionOutliers.length ? ` (ours chose otherwise in ${r.flashAttentionOutliers.join('; ')})` : ''}, llama-mtmd-cli off; ${path.basename(r.model)} + ${path.basename(r.mmproj)}; medians of ${r.runs} runs (ours) and ${r.cliRuns} (llama-mtmd-cli, -c ${r.cliContext}); floor = encoder inputs x one tile's encode (${s1(r.tile.medianMs)} s for ${r.tile.side}x${r.tile.side}, ${r.tile.tokens} tokens; runs ${r.tile.encodeMs.map((x) => s1(x)).join(', ')}) + llama-bench prefill of our prompt tokens + decode of our generated tokens at that depth; load average ${f1(Math.min(...loads))}-${f1(Math.max(...loads))}.`,
        '',
        mdTable(head, rows),
        '',
        details,
        '',
        "Ours: encode = the tiles' encodes (`timings.imageMs`), prefill = text + packed image embeddings, decode = after the prompt; other = the rest of the call. llama-mtmd-cli: encode = its `mtmd batch encoding` (its image preprocessing included), prefill = llama_perf prompt eval less the encode, decode = the rest of its assessment (PNG decoding and sampling included).",
        '',
        `**photoVsFloor = ${f3(r.photoVsFloor)}** (the worst size's ours / floor; target <= 1.10)`,
        '',
    ].join('\n');
}

export function photosJson(r: PhotoResults): string {
    return `${JSON.stringify(r, null, 2)}\n`;
}
