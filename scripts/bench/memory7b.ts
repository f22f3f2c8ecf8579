// --memory-7b / --memory-only: peak memory of one short assessment on the LLaVA-1.5-7B-shaped pair (Q8_0 text,
// F16 mmproj), ours and llama-mtmd-cli. A short question instead of the 1.1k-token policy: the peak is weights +
// KV cache + compute buffers, which do not grow with the prompt, and a 7B prefill on a small CPU takes minutes
// per 100 tokens.

import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { LLAVA15_VICUNA_SYSTEM, MTMD_MEDIA_MARKER } from '../../lib/chat/index.js';
import { f0, log, mib, runChild } from './common.js';
import type { OursResult } from './figures.js';
import { runMtmdCli, type MtmdCliRun } from './mtmd-cli.js';
import type { OursSpec } from './run-ours.js';

export interface Memory7b {
    ours: OursResult;
    cli: MtmdCliRun;
    modelBytes: number;
    mmprojBytes: number;
}

export async function runMemory7b(opts: {
    pair: { model: string; mmproj: string };
    work: string;
    grammar: string;
    cli: string;
    oursSpec: (
        pair: { model: string; mmproj: string },
        promptFile: string,
        grammarFile: string,
        maxTokens: number,
    ) => OursSpec;
    cliArgs: (
        pair: { model: string; mmproj: string },
        prompt: string,
        grammarFile: string,
        nPredict: number,
    ) => string[];
}): Promise<Memory7b> {
    const { pair, work } = opts;
    const vicuna = LLAVA15_VICUNA_SYSTEM.render('Is this image safe? Answer in JSON.', {
        imageMarker: MTMD_MEDIA_MARKER,
    });
    const g7 = path.join(work, 'verdict7b.gbnf');
    writeFileSync(g7, opts.grammar);
    const pf7 = path.join(work, 'prompt7b.txt');
    writeFileSync(pf7, vicuna);
    log('7B memory: ours (1 token) ...');
    const o = await runChild<Omit<OursResult, 'ok'>>('run-ours.ts', {
        ...opts.oursSpec(pair, pf7, g7, 1),
        addSpecial: LLAVA15_VICUNA_SYSTEM.addBos,
    });
    if (!o.ok) throw new Error(`our 7B run failed: ${o.error}`);
    log(`  ours peak RSS ${f0(o.result!.peakRssMiB)} MiB; llama-mtmd-cli ...`);
    // the Vicuna prompt starts with BOS: mtmd-cli adds it for the first message (add_bos), ours via addSpecial
    const c = await runMtmdCli(opts.cli, opts.cliArgs(pair, vicuna, g7, 1));
    if (!c.ok) throw new Error(`llama-mtmd-cli 7B failed (exit ${c.exitCode}):\n${c.logTail}`);
    log(`  llama-mtmd-cli peak RSS ${f0(c.peakRssMiB)} MiB`);
    return {
        ours: { ok: true, ...o.result! },
        cli: c,
        modelBytes: statSync(pair.model).size,
        mmprojBytes: statSync(pair.mmproj).size,
    };
}

export function memoryTable(m: Memory7b, ctx: number): string {
    return [
        `### Memory, llavaguard-v1.1-7b shapes (text Q8_0 ${mib(m.modelBytes)} MiB, mmproj F16 ${mib(m.mmprojBytes)} MiB), image + a short question, 1 generated token, ctx ${ctx}`,
        '',
        '| | ours (addon) | llama-mtmd-cli |',
        '|---|---:|---:|',
        `| peak RSS (MiB) | ${f0(m.ours.peakRssMiB)} | ${f0(m.cli.peakRssMiB)} |`,
        `| RSS before loading (node + TS loader; MiB) | ${f0(m.ours.baseRssMiB ?? NaN)} | - |`,
        `| prompt tokens | ${m.ours.runs[0]!.promptTokens} | ${m.cli.promptTokens} |`,
        `| image encode (ms) | ${f0(m.ours.runs[0]!.timings.imageMs)} | ${f0(m.cli.imageMs)} |`,
        `| assessment wall (ms) | ${f0(m.ours.runs[0]!.wallMs)} | ${f0(m.cli.wallMs)} |`,
        `| load, excluded (ms) | ${f0(m.ours.loadMs)} | ${f0(m.cli.loadMs)} |`,
        `| generated text identical | ${m.ours.runs[0]!.text === m.cli.text} | |`,
    ].join('\n');
}
