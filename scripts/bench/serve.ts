// npm run bench:serve: `llavaguard serve` against llama.cpp's own llama-server (built from the same tree by
// LLAVAGUARD_BUILD_TOOLS=1, on the same prebuilt libraries), one after the other; autocannon sends a fixed number
// of requests at each concurrency; images/s and p50/p95 latency side by side.
//
// What keeps it like for like, and why:
// - Distinct images. Our server assesses identical work in flight once (same image bytes, policy and settings:
//   lib/server/work.ts), so one repeated picture would let ours do 1/c of the work at c clients. Request k of a
//   run carries picture k (scripts/bench/image.ts, seed k, all the same size, so the same image-token count) on
//   both servers; no seed is sent, the requests are plain greedy ones. The bench checks the pictures differ.
// - The same prompt tokens. Through /v1/chat/completions llama-server renders the messages with the GGUF's chat
//   template (jinja, on by default in this llama-server); ours renders the reference's layout (lib/chat,
//   onevision-qwen), which always opens with Qwen's default system turn. The tiny test model's template has no
//   system turn, so llama-server prefilled 23 tokens fewer (3668 vs 3691 in BENCHMARKS.md): exactly
//   "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" in that vocabulary; the shaped 0.5B's template
//   (Qwen2-Instruct's) adds that turn itself. So llama-server gets our rendered prompt as a raw /completion
//   prompt with the image as multimodal_data at its media marker. The bench stops unless the text's token ids
//   match (our tokenizer vs llama-server's /tokenize) and every answer of both reports the same prompt tokens.
// - Matched settings: slots, threads (also batch threads and the image encoder's), 4096 context per slot in its
//   own KV stream, flash attention off, greedy decoding (llama-server: the temperature sampler alone at 0, an
//   argmax; ours: its greedy sampler) under the verdict grammar (ours its token grammar, llama-server our character
//   GBNF), the same max tokens, no prompt cache on llama-server (cache_prompt false, --cache-ram 0), no warm-up
//   run at load (each side gets one warm-up request). Each keeps its own micro-batch: ours CPU_UBATCH (128) on a
//   CPU, llama-server 512, both batch 2048. Ours uses the `llama.cpp` image pipeline (mtmd's preprocessing, as
//   llama-server).
//
//   npm run bench:serve -- [--requests 8] [--concurrency 1,2,4] [--parallel 4] [--threads N] [--max-tokens 64]
//                          [--quick (tiny test model)] [--pair MODEL,MMPROJ] [--llama-server PATH] [--ours-only] [--json]
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cachedTestModel } from '../../gguf/synthetic/tiny-models.js';
import { MTMD_MEDIA_MARKER, ONEVISION_QWEN } from '../../lib/chat/index.js';
import { Policy } from '../../lib/policy/index.js';
import { CPU_UBATCH } from '../../lib/runtime/VisionContext.js';
import { VisionModel } from '../../lib/runtime/VisionModel.js';
import { f2, f3, load1, log, mdTable, repoRoot } from './common.js';
import { writePhotoLikePng } from './image.js';
import { ensurePair, type Pair } from './lib/bench-pairs.js';
import {
    type Answer,
    type BenchImage,
    CTX_PER_SLOT,
    SERVER_BATCH,
    SERVER_UBATCH,
    type ServeSetup,
    type Side,
    startLlamaServer,
    startOurs,
} from './serve-servers.js';

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
    const text = await readFile(new URL(import.meta.url), 'utf8');
    process.stdout.write(`${text.slice(0, text.indexOf('\nimport ')).trim()}\n`);
    process.exit(0);
}
const requests = Number(o.requests);
const concurrencies = o.concurrency!.split(',').map(Number);
const parallel = Number(o.parallel);
const threads = Number(o.threads);
const maxTokens = Number(o['max-tokens']);
for (const c of concurrencies)
    if (!(c >= 1 && c <= requests)) throw new RangeError(`--concurrency ${c}: each must be 1..--requests`);

const IMAGE_SIZE = 384;
/** The warm-up's picture: not one of the load's. */
const WARMUP_SEED = 1000;

const pair: Pair = o.pair
    ? { model: o.pair.split(',')[0]!, mmproj: o.pair.split(',')[1]! }
    : o.quick
      ? await cachedTestModel('onevision')
      : await ensurePair(o.models!, 'llavaguard-v1.2-0.5b', 'q8_0');

async function benchImage(seed: number): Promise<BenchImage> {
    await mkdir(o.models!, { recursive: true });
    const file = path.join(o.models!, `bench-photo-${IMAGE_SIZE}-s${seed}.png`);
    if (!existsSync(file)) {
        const tmp = `${file}.${process.pid}.tmp`;
        await writePhotoLikePng(tmp, IMAGE_SIZE, IMAGE_SIZE, seed);
        await rename(tmp, file);
    }
    const bytes = await readFile(file);
    return { seed, base64: bytes.toString('base64'), sha256: createHash('sha256').update(bytes).digest('hex') };
}

// Seeds from 1: image.ts's generator treats seed 0 as 1.
const images = await Promise.all(Array.from({ length: requests }, (_, k) => benchImage(k + 1)));
const warmupImage = await benchImage(WARMUP_SEED);
if (new Set([...images, warmupImage].map((i) => i.sha256)).size !== requests + 1)
    throw new Error('the bench pictures are not all distinct');

const policy = Policy.default('v1.2');
const format = ONEVISION_QWEN;
const promptParts = format.renderParts(policy.render(), { imageMarker: MTMD_MEDIA_MARKER });
/** The prompt's text tokens as ours tokenizes them: before the image, after it. */
const ourTextTokens = await (async () => {
    const vocab = await VisionModel.load({ model: pair.model, vocabOnly: true });
    try {
        return {
            before: [
                ...vocab.tokenize(promptParts.imagePrefix.slice(0, -MTMD_MEDIA_MARKER.length), {
                    addSpecial: format.addBos,
                }),
            ],
            after: [
                ...vocab.tokenize([
                    { text: promptParts.userText, parseSpecial: false },
                    { text: promptParts.assistantPrefix, parseSpecial: true },
                ]),
            ],
        };
    } finally {
        await vocab.close();
    }
})();

const llamaServer =
    o['llama-server'] ??
    [path.join(repoRoot, 'build-server/bin/llama-server'), path.join(repoRoot, 'build/bin/llama-server')].find((p) =>
        existsSync(p),
    );
if (!o['ours-only'] && !llamaServer)
    throw new Error(
        'no llama-server: build it with LLAVAGUARD_BUILD_TOOLS=1 (npm run build:tools), or pass --ours-only',
    );

const settings = {
    images: `${requests} distinct ${IMAGE_SIZE}x${IMAGE_SIZE} photo-like PNGs (seeds 1..${requests}), request k of a run gets image k on both servers`,
    parallel,
    threads,
    ctxPerSlot: CTX_PER_SLOT,
    flashAttention: 'off',
    sampling: 'greedy (temperature 0) under the verdict grammar',
    maxTokens,
    ours: {
        endpoint: '/v1/chat/completions (image_url + policy text)',
        imagePipeline: 'llama.cpp',
        batch: 2048,
        ubatch: `${CPU_UBATCH} on CPU (lib/runtime CPU_UBATCH)`,
        kv: 'one stream per slot',
        grammar: 'verdict token grammar',
    },
    llamaServer: {
        path: llamaServer,
        endpoint: '/completion (our rendered prompt + multimodal_data)',
        batch: SERVER_BATCH,
        ubatch: SERVER_UBATCH,
        kv: 'one stream per slot (--no-kv-unified)',
        samplers: ['temperature'],
        grammar: 'verdict character GBNF',
        promptCache: 'off (cache_prompt false, --cache-ram 0)',
        warmupAtLoad: false,
    },
};

/** One request, without fetch's 300 s header timeout (a request to the 0.5B model can take longer on a busy host). */
function post(url: string, body: string): Promise<{ status: number; json: unknown }> {
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
        req.end(body);
    });
}

async function once(side: Side, image: BenchImage): Promise<Answer> {
    const r = await post(`${side.url}${side.path}`, side.body(image));
    if (r.status !== 200) throw new Error(`${side.name}: HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    return side.answer(r.json);
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
    /** Mean generated tokens per answer: the decode work, which the two grammars may end at different lengths. */
    meanCompletionTokens: number;
}

const quantile = (xs: number[], q: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

async function load(side: Side, concurrency: number, promptTokens: number): Promise<Row> {
    const bodies = images.map((image) => side.body(image));
    let issued = 0;
    const latencies: number[] = [];
    const completion: number[] = [];
    const wrong: string[] = [];
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
                        path: side.path,
                        headers: { 'content-type': 'application/json' },
                        // Called once per request sent (amount is split exactly over the connections).
                        setupRequest: (req) => ({ ...req, body: bodies[issued++ % requests] }),
                        onResponse: (status, body) => {
                            if (status !== 200) return void wrong.push(`HTTP ${status}: ${body.slice(0, 200)}`);
                            const a = side.answer(JSON.parse(body));
                            completion.push(a.completionTokens);
                            if (a.promptTokens !== promptTokens)
                                wrong.push(`prompt of ${a.promptTokens} tokens, not ${promptTokens}`);
                        },
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
    if (issued !== requests) throw new Error(`${side.name}: ${issued} request bodies built for ${requests} requests`);
    if (wrong.length > 0) throw new Error(`${side.name} at ${concurrency} clients: ${wrong.join('; ')}`);
    return {
        server: side.name,
        concurrency,
        requests,
        ok: result['2xx'],
        wallS,
        imagesPerS: result['2xx'] / wallS,
        p50S: quantile(latencies, 0.5),
        p95S: quantile(latencies, 0.95),
        meanCompletionTokens: completion.reduce((a, b) => a + b, 0) / completion.length,
    };
}

const setup: ServeSetup = { pair, parallel, threads, maxTokens, policy, promptParts, ourTextTokens, llamaServer };
const rows: Row[] = [];
const checks: Record<string, unknown> = {};
let promptTokens: number | undefined;
const sides: Array<(s: ServeSetup) => Promise<Side>> = [startOurs];
if (!o['ours-only']) sides.push(startLlamaServer);
for (const start of sides) {
    log(`starting ${start === startOurs ? 'llavaguard serve' : 'llama-server'} (${path.basename(pair.model)}) ...`);
    const side = await start(setup);
    const first = await once(side, warmupImage); // warm-up, and what it answers
    checks[side.name] = { promptTokens: first.promptTokens, answer: first.content.slice(0, 80) };
    log(`  ${side.name}: prompt ${first.promptTokens} tokens, answer ${JSON.stringify(first.content.slice(0, 60))}`);
    promptTokens ??= first.promptTokens;
    if (first.promptTokens !== promptTokens)
        throw new Error(`${side.name} prefilled ${first.promptTokens} prompt tokens, the first server ${promptTokens}`);
    for (const c of concurrencies) {
        log(`  ${side.name}: ${requests} requests at ${c} concurrent clients (load ${load1().toFixed(1)}) ...`);
        rows.push(await load(side, c, promptTokens));
    }
    side.process.kill('SIGTERM');
    await new Promise((r) => side.process.once('close', r));
}

const report = {
    model: pair.model,
    settings,
    requests,
    promptTokens,
    images: images.map((i) => ({ seed: i.seed, sha256: i.sha256.slice(0, 16) })),
    host: { cpus: os.cpus()[0]?.model, cores: os.availableParallelism(), load1: load1() },
    checks,
    rows,
};
if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
    const s = settings;
    const header = [
        `${path.basename(path.dirname(pair.model))}/${path.basename(pair.model)}: ${s.images}; prompt ${promptTokens} tokens on both (image included)`,
        `both: ${parallel} slots, ${threads} threads, ${CTX_PER_SLOT} context per slot, flash attention off, ${s.sampling}, max ${maxTokens} tokens`,
        `ours: ${s.ours.endpoint}, ${s.ours.imagePipeline} image pipeline, batch ${s.ours.batch}, micro-batch ${s.ours.ubatch}`,
        `llama-server: ${s.llamaServer.endpoint}, batch ${SERVER_BATCH}, micro-batch ${SERVER_UBATCH}, prompt cache ${s.llamaServer.promptCache}`,
    ];
    const table = mdTable(
        ['server', 'clients', 'ok', 'wall s', 'images/s', 'p50 s', 'p95 s', 'tokens out'],
        rows.map((r) => [
            r.server,
            String(r.concurrency),
            `${r.ok}/${r.requests}`,
            f2(r.wallS),
            f3(r.imagesPerS),
            f2(r.p50S),
            f2(r.p95S),
            r.meanCompletionTokens.toFixed(1),
        ]),
    );
    process.stdout.write(`${header.join('\n')}\n\n${table}\n`);
}
process.exit(0);
