// One LlavaGuard assessment on each side, ours (scripts/bench/run-ours.ts) and llama-mtmd-cli, each a fresh
// process: their arguments with matched settings or each side's own defaults, the recipe both decode with, and
// the interleaved runs.

import { ONEVISION_QWEN, MTMD_MEDIA_MARKER } from '../../../lib/chat/index.js';
import { GuardRecipes, type PolicyRecipe } from '../../../lib/guard/recipe.js';
import type { Policy } from '../../../lib/policy/index.js';
import { VisionModel } from '../../../lib/runtime/VisionModel.js';
import { type BenchSettings, f0, load1, log, runChild } from '../common.js';
import type { OursResult } from '../figures.js';
import { runMtmdCliComplete, type MtmdCliRun } from '../mtmd-cli.js';
import type { OursSpec } from '../run-ours.js';
import type { Pair } from './bench-pairs.js';

/** Makes mtmd-cli's chat-template step a no-op, so it tokenizes exactly our rendered prompt. */
const PASSTHROUGH_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}";

/** llama-mtmd-cli's arguments; matched: our settings (threads, no flash attention, sizes, no warm-up). */
export function cliArgs(
    S: BenchSettings,
    p: Pair,
    image: string,
    prompt: string,
    grammarFile: string,
    matched: boolean,
    nPredict = S.maxTokens,
): string[] {
    const a = [
        '-m',
        p.model,
        '--mmproj',
        p.mmproj,
        '--image',
        image,
        '-p',
        prompt,
        '--no-escape',
        '--jinja',
        '--chat-template',
        PASSTHROUGH_TEMPLATE,
        '--grammar-file',
        grammarFile,
        '-n',
        String(nPredict),
        '--temp',
        String(S.temp),
        '--top-k',
        String(S.topK),
        '--top-p',
        String(S.topP),
        '--min-p',
        '0',
        '--seed',
        String(S.seed),
        '--log-timestamps',
        '--log-prefix',
        '-lv',
        '4',
    ];
    if (matched) {
        a.push(
            '-t',
            String(S.threads),
            '-tb',
            String(S.threads),
            '-fa',
            'off',
            '-c',
            String(S.ctx),
            '-b',
            String(S.batch),
            '-ub',
            String(S.ubatch),
            // our addon does no warm-up run at load: leave it out here too, so both start equally cold
            '--no-warmup',
        );
    }
    return a;
}

/** Our run's spec; not matched: our defaults, as LlavaGuard runs them (jump-forward with the verdict's drafts). */
export function oursSpec(
    S: BenchSettings,
    drafts: readonly string[],
    p: Pair,
    image: string,
    promptFile: string,
    grammarFile: string,
    matched: boolean,
    maxTokens = S.maxTokens,
): OursSpec {
    const base = {
        model: p.model,
        mmproj: p.mmproj,
        image,
        promptFile,
        grammarFile,
        maxTokens,
        temperature: S.temp,
        topK: S.topK,
        topP: S.topP,
        seed: S.seed,
    };
    if (!matched) return { ...base, drafts: [...drafts] };
    // jump-forward off: one forward pass per generated token, as llama-mtmd-cli does
    return {
        ...base,
        threads: S.threads,
        contextSize: S.ctx,
        batchSize: S.batch,
        ubatchSize: S.ubatch,
        flashAttention: 'off',
        jumpForward: false,
    };
}

/**
 * The prompt, grammar and drafts both sides decode with, as LlavaGuard builds them (the grammar in the model's
 * canonical layout tokens unless --layout-tokens any).
 */
export async function benchRecipe(
    S: BenchSettings,
    pair: Pair,
    policy: Policy,
): Promise<{ recipe: PolicyRecipe; grammar: string }> {
    const vocab = await VisionModel.load({ model: pair.model, vocabOnly: true });
    try {
        const recipe = new GuardRecipes({
            tokenizer: vocab,
            format: ONEVISION_QWEN,
            imageMarker: MTMD_MEDIA_MARKER,
        }).for(policy);
        const grammar = recipe.grammar({ maxRationaleChars: S.rationaleChars, layoutTokens: S.layoutTokens });
        return { recipe, grammar };
    } finally {
        await vocab.close();
    }
}

export async function runOurs(spec: OursSpec): Promise<OursResult> {
    const r = await runChild<Omit<OursResult, 'ok'>>('run-ours.ts', spec);
    if (!r.ok) throw new Error(`our run failed: ${r.error}`);
    return { ok: true, ...r.result! };
}

export async function runCli(S: BenchSettings, args: string[]): Promise<MtmdCliRun> {
    const c = await runMtmdCliComplete(S.cli, args);
    if (!c.ok) throw new Error(`llama-mtmd-cli failed (exit ${c.exitCode}):\n${c.logTail}`);
    return c;
}

/** S.runs interleaved runs ours, cli, ours, cli, ...; the load average before and after each goes into loads. */
export async function sideBySide(
    S: BenchSettings,
    loads: number[],
    label: string,
    ours: () => Promise<OursResult>,
    cli: () => Promise<MtmdCliRun>,
): Promise<{ ours: OursResult[]; cli: MtmdCliRun[] }> {
    const out = { ours: [] as OursResult[], cli: [] as MtmdCliRun[] };
    for (let i = 0; i < S.runs; i++) {
        log(`${label} ${i + 1}/${S.runs}: ours ... (load average ${load1().toFixed(2)})`);
        loads.push(load1());
        const o = await ours();
        out.ours.push(o);
        log(`  ours ${f0(o.runs[0]!.wallMs)} ms, ${o.runs[0]!.tokens.length} tokens; llama-mtmd-cli ...`);
        loads.push(load1());
        const c = await cli();
        out.cli.push(c);
        loads.push(load1());
        log(`  llama-mtmd-cli ${f0(c.wallMs)} ms, ${c.evalRuns} tokens`);
    }
    return out;
}
