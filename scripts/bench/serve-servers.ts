// How `npm run bench:serve` (serve.ts) starts each server and talks to it: `llavaguard serve` and llama-server
// with matched settings, each checked for its slots (and llama-server for our prompt's tokens) before the load.

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { MTMD_MEDIA_MARKER, type PromptParts } from '../../lib/chat/index.js';
import type { Policy } from '../../lib/policy/index.js';
import { buildVerdictGrammar } from '../../lib/verdict/index.js';
import { repoRoot } from './common.js';
import type { Pair } from './lib/bench-pairs.js';

/** Context per slot on both servers (ours: --context-size; its default would size for the largest image). */
export const CTX_PER_SLOT = 4096;
/** llama-server's own defaults, passed explicitly so that the header states what ran. */
export const SERVER_BATCH = 2048;
export const SERVER_UBATCH = 512;

export interface BenchImage {
    seed: number;
    base64: string;
    sha256: string;
}

export interface Answer {
    promptTokens: number;
    completionTokens: number;
    content: string;
}

export interface Side {
    name: string;
    url: string;
    path: string;
    /** The request body for a picture, JSON. */
    body(image: BenchImage): string;
    answer(json: unknown): Answer;
    process: ChildProcess;
}

const children: ChildProcess[] = [];
process.on('exit', () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** What both servers are started with, from serve.ts's command line. */
export interface ServeSetup {
    pair: Pair;
    parallel: number;
    threads: number;
    maxTokens: number;
    policy: Policy;
    promptParts: PromptParts;
    /** The prompt's text tokens as ours tokenizes them: before the image, after it. */
    ourTextTokens: { before: number[]; after: number[] };
    llamaServer: string | undefined;
}

export async function startOurs(s: ServeSetup): Promise<Side> {
    const { pair, parallel, threads, maxTokens, policy } = s;
    const child = spawn(
        process.execPath,
        [
            '--import',
            '@tapjs/typescript/import',
            path.join(repoRoot, 'lib/cli/main.ts'),
            'serve',
            ...['--model', pair.model, '--mmproj', pair.mmproj, '--port', '0'],
            ...['--parallel', String(parallel), '--threads', String(threads), '--context-size', String(CTX_PER_SLOT)],
            ...['--image-pipeline', 'llama.cpp', '--flash-attention', 'off', '--no-log', '--timeout-ms', '0'],
        ],
        { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
        let err = '';
        child.stderr!.on('data', (d) => {
            err += d;
            const m = /serving .* on (http:\/\/\S+)/.exec(err);
            if (m) resolve(m[1]!);
        });
        child.on('close', (code) => reject(new Error(`llavaguard serve exited (${code}):\n${err}`)));
    });
    const health = (await (await fetch(`${url}/health`)).json()) as { slots: { total: number } };
    if (health.slots.total !== parallel)
        throw new Error(`llavaguard serve has ${health.slots.total} slots, not ${parallel}`);
    return {
        name: 'llavaguard serve',
        url,
        path: '/v1/chat/completions',
        process: child,
        body: (image) =>
            JSON.stringify({
                model: 'llavaguard',
                messages: [
                    {
                        role: 'user',
                        content: [
                            { type: 'image_url', image_url: { url: `data:image/png;base64,${image.base64}` } },
                            { type: 'text', text: policy.render() },
                        ],
                    },
                ],
                temperature: 0,
                max_tokens: maxTokens,
            }),
        answer: (json) => {
            const j = json as {
                usage: { prompt_tokens: number; completion_tokens: number };
                choices: { message: { content: string } }[];
            };
            return {
                promptTokens: j.usage.prompt_tokens,
                completionTokens: j.usage.completion_tokens,
                content: j.choices[0]!.message.content,
            };
        },
    };
}

export async function startLlamaServer(s: ServeSetup): Promise<Side> {
    const { pair, parallel, threads, maxTokens, policy, promptParts, ourTextTokens, llamaServer } = s;
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(
        llamaServer!,
        [
            ...['-m', pair.model, '--mmproj', pair.mmproj, '--host', '127.0.0.1', '--port', String(port)],
            ...['-np', String(parallel), '-c', String(CTX_PER_SLOT * parallel), '--no-kv-unified'],
            ...['-t', String(threads), '-tb', String(threads)],
            ...['-b', String(SERVER_BATCH), '-ub', String(SERVER_UBATCH)],
            ...['-fa', 'off', '--no-warmup', '--cache-ram', '0'],
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d) => {
        err = (err + d).slice(-4000);
    });
    const url = `http://127.0.0.1:${port}`;
    for (const started = Date.now(); ; ) {
        if (child.exitCode !== null) throw new Error(`llama-server exited (${child.exitCode}):\n${err}`);
        const ok = await fetch(`${url}/health`).then(
            (r) => r.ok,
            () => false,
        );
        if (ok) break;
        if (Date.now() - started > 300_000) throw new Error(`llama-server did not become ready:\n${err}`);
        await new Promise((r) => setTimeout(r, 500));
    }
    const props = (await (await fetch(`${url}/props`)).json()) as {
        total_slots: number;
        media_marker: string;
        default_generation_settings: { n_ctx: number };
    };
    if (props.total_slots !== parallel || props.default_generation_settings.n_ctx !== CTX_PER_SLOT)
        throw new Error(
            `llama-server has ${props.total_slots} slots of ${props.default_generation_settings.n_ctx} tokens, not ${parallel} of ${CTX_PER_SLOT}`,
        );
    // Its media marker is random per process unless LLAMA_MEDIA_MARKER pins it: ask.
    const before = promptParts.imagePrefix.slice(0, -MTMD_MEDIA_MARKER.length);
    const after = promptParts.userText + promptParts.assistantPrefix;
    const tokenize = async (content: string, addSpecial: boolean) =>
        (
            (await (
                await fetch(`${url}/tokenize`, {
                    method: 'POST',
                    body: JSON.stringify({ content, add_special: addSpecial, parse_special: true }),
                })
            ).json()) as { tokens: number[] }
        ).tokens;
    const theirs = { before: await tokenize(before, true), after: await tokenize(after, false) };
    if (JSON.stringify(theirs) !== JSON.stringify(ourTextTokens))
        throw new Error(
            `llama-server tokenizes the prompt's text differently: ${theirs.before.length} + ${theirs.after.length} tokens, ours ${ourTextTokens.before.length} + ${ourTextTokens.after.length}`,
        );
    const promptString = before + props.media_marker + after;
    const grammar = buildVerdictGrammar(policy);
    return {
        name: 'llama-server',
        url,
        path: '/completion',
        process: child,
        body: (image) =>
            JSON.stringify({
                prompt: { prompt_string: promptString, multimodal_data: [image.base64] },
                n_predict: maxTokens,
                temperature: 0,
                samplers: ['temperature'],
                grammar,
                cache_prompt: false,
            }),
        answer: (json) => {
            const j = json as { tokens_evaluated: number; tokens_predicted: number; content: string };
            return { promptTokens: j.tokens_evaluated, completionTokens: j.tokens_predicted, content: j.content };
        },
    };
}
