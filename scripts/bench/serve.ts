// npm run bench:serve: `llavaguard serve` against llama.cpp's own llama-server (built from the same tree by
// LLAVAGUARD_BUILD_TOOLS=1, on the same prebuilt libraries), both with --parallel slots, the same threads, flash
// attention off, greedy decoding under the verdict grammar, the same image and prompt: ours with the `llama.cpp`
// image pipeline (mtmd's preprocessing, so both prefill the same image tokens), llama-server's
// /v1/chat/completions with the same image and "\n" + policy text (it joins an image part and the text without a
// newline; ours renders image, "\n", policy) and our character-level verdict grammar, prompt caching off.
// autocannon sends a fixed number of requests at each concurrency; images/s and p50/p95 latency side by side.
// Each request to ours carries its own seed: identical work in flight would otherwise be assessed once.
//
//   npm run bench:serve -- [--requests 8] [--concurrency 1,2,4] [--parallel 4] [--threads N] [--max-tokens 64]
//                          [--quick (tiny test model)] [--pair MODEL,MMPROJ] [--llama-server PATH] [--ours-only] [--json]
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cachedTestModel } from '../../gguf/synthetic/tiny-models.js';
import { Policy } from '../../lib/policy/index.js';
import { buildVerdictGrammar } from '../../lib/verdict/index.js';
import { f2, load1, log, mdTable, repoRoot } from './common.js';
import { writePhotoLikePng } from './image.js';
import { ensurePair, type Pair } from './lib/bench-pairs.js';

const { values: o } = parseArgs({
    options: {
        requests: { type: 'string', default: '8' },
        concurrency: { type: 'string', default: '1,2,4' },
        parallel: { type: 'string', default: '4' },
        threads: { type: 'string', default: String(os.availableParallelism()) },
        'max-tokens': { type: 'string', default: '64' },
        models: { type: 'string', default: '/tmp/llavaguard-bench-models' },
        pair: { type: 'string' },
        quick: { type: 'boolean', default: false },
        'llama-server': { type: 'string' },
        'ours-only': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
    },
});
if (o.help) {
    process.stdout.write(`${(await readFile(new URL(import.meta.url), 'utf8')).split('\n').slice(0, 11).join('\n')}\n`);
    process.exit(0);
}
const requests = Number(o.requests);
const concurrencies = o.concurrency!.split(',').map(Number);
const parallel = Number(o.parallel);
const threads = Number(o.threads);
const maxTokens = Number(o['max-tokens']);

const pair: Pair = o.pair
    ? { model: o.pair.split(',')[0]!, mmproj: o.pair.split(',')[1]! }
    : o.quick
      ? await cachedTestModel('onevision')
      : await ensurePair(o.models!, 'llavaguard-v1.2-0.5b', 'q8_0');
const photo = path.join(o.models!, 'bench-photo-384.png');
const imagePath = existsSync(photo) ? photo : await writePhotoLikePng(photo);
const imageUrl = `data:image/png;base64,${(await readFile(imagePath)).toString('base64')}`;
const policy = Policy.default('v1.2');
const llamaServer =
    o['llama-server'] ??
    [path.join(repoRoot, 'build-server/bin/llama-server'), path.join(repoRoot, 'build/bin/llama-server')].find((p) =>
        existsSync(p),
    );
if (!o['ours-only'] && !llamaServer)
    throw new Error(
        'no llama-server: build it with LLAVAGUARD_BUILD_TOOLS=1 (npm run build:tools), or pass --ours-only',
    );

interface Side {
    name: string;
    url: string;
    /** The request body of request number i. */
    body(i: number): object;
    process: ChildProcess;
}

const children: ChildProcess[] = [];
process.on('exit', () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

async function startOurs(): Promise<Side> {
    const child = spawn(
        process.execPath,
        [
            '--import',
            '@tapjs/typescript/import',
            path.join(repoRoot, 'lib/cli/main.ts'),
            'serve',
            '--model',
            pair.model,
            '--mmproj',
            pair.mmproj,
            '--port',
            '0',
            '--parallel',
            String(parallel),
            '--threads',
            String(threads),
            '--image-pipeline',
            'llama.cpp',
            '--flash-attention',
            'off',
            '--no-log',
            '--timeout-ms',
            '0',
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
    return {
        name: 'llavaguard serve',
        url,
        process: child,
        body: (i) => ({
            model: 'llavaguard',
            messages: [
                {
                    role: 'user',
                    content: [
                        { type: 'image_url', image_url: { url: imageUrl } },
                        { type: 'text', text: policy.render() },
                    ],
                },
            ],
            temperature: 0,
            max_tokens: maxTokens,
            seed: i,
        }),
    };
}

async function startLlamaServer(): Promise<Side> {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(
        llamaServer!,
        [
            ...['-m', pair.model, '--mmproj', pair.mmproj, '--host', '127.0.0.1', '--port', String(port)],
            ...['-np', String(parallel), '-c', String(4096 * parallel), '-t', String(threads), '-tb', String(threads)],
            ...['-fa', 'off', '--no-warmup'],
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
    const grammar = buildVerdictGrammar(policy);
    return {
        name: 'llama-server',
        url,
        process: child,
        body: () => ({
            messages: [
                {
                    role: 'user',
                    content: [
                        { type: 'image_url', image_url: { url: imageUrl } },
                        { type: 'text', text: `\n${policy.render()}` },
                    ],
                },
            ],
            temperature: 0,
            max_tokens: maxTokens,
            grammar,
            cache_prompt: false,
        }),
    };
}

/** One request, without fetch's 300 s header timeout (a request to the 0.5B model can take longer on a busy host). */
function post(url: string, body: object): Promise<{ status: number; json: unknown }> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
                text += d;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
    });
}

async function once(side: Side, i: number) {
    const r = await post(`${side.url}/v1/chat/completions`, side.body(i));
    const json = r.json as {
        usage?: { prompt_tokens: number; completion_tokens: number };
        choices?: { message: { content: string } }[];
    };
    if (r.status !== 200) throw new Error(`${side.name}: HTTP ${r.status} ${JSON.stringify(json).slice(0, 300)}`);
    return { usage: json.usage, content: json.choices?.[0]?.message.content ?? '' };
}

interface Row {
    server: string;
    concurrency: number;
    requests: number;
    ok: number;
    wallS: number;
    imagesPerS: number;
    p50S: number;
    p95S: number;
}

const quantile = (xs: number[], q: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

async function load(side: Side, concurrency: number): Promise<Row> {
    let next = 1000;
    const latencies: number[] = [];
    const started = performance.now();
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
            {
                url: side.url,
                connections: concurrency,
                amount: requests,
                timeout: 1800,
                requests: [
                    {
                        method: 'POST',
                        path: '/v1/chat/completions',
                        headers: { 'content-type': 'application/json' },
                        setupRequest: (req) => ({ ...req, body: JSON.stringify(side.body(next++)) }),
                    },
                ],
            },
            (error, r) => (error ? reject(error) : resolve(r)),
        );
        instance.on('response', (_client, status, _bytes, ms) => {
            if (status === 200) latencies.push(ms / 1000);
        });
    });
    const wallS = (performance.now() - started) / 1000;
    return {
        server: side.name,
        concurrency,
        requests,
        ok: result['2xx'],
        wallS,
        imagesPerS: result['2xx'] / wallS,
        p50S: quantile(latencies, 0.5),
        p95S: quantile(latencies, 0.95),
    };
}

const rows: Row[] = [];
const checks: Record<string, unknown> = {};
const sides: Array<() => Promise<Side>> = [startOurs];
if (!o['ours-only']) sides.push(startLlamaServer);
for (const start of sides) {
    log(`starting ${start === startOurs ? 'llavaguard serve' : 'llama-server'} (${path.basename(pair.model)}) ...`);
    const side = await start();
    const first = await once(side, 1); // warm-up, and what it answers
    checks[side.name] = { usage: first.usage, answer: first.content.slice(0, 80) };
    log(
        `  ${side.name}: prompt ${first.usage?.prompt_tokens} tokens, answer ${JSON.stringify(first.content.slice(0, 60))}`,
    );
    for (const c of concurrencies) {
        log(`  ${side.name}: ${requests} requests at ${c} concurrent clients (load ${load1().toFixed(1)}) ...`);
        rows.push(await load(side, c));
    }
    side.process.kill('SIGTERM');
    await new Promise((r) => side.process.once('close', r));
}

const report = {
    model: pair.model,
    parallel,
    threads,
    maxTokens,
    requests,
    host: { cpus: os.cpus()[0]?.model, cores: os.availableParallelism(), load1: load1() },
    checks,
    rows,
};
if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
    const table = mdTable(
        ['server', 'clients', 'ok', 'wall s', 'images/s', 'p50 s', 'p95 s'],
        rows.map((r) => [
            r.server,
            String(r.concurrency),
            `${r.ok}/${r.requests}`,
            f2(r.wallS),
            f2(r.imagesPerS),
            f2(r.p50S),
            f2(r.p95S),
        ]),
    );
    process.stdout.write(`${table}\n`);
}
process.exit(0);
