// Text prefill in our process against llama-bench's, the same model, threads, batch sizes and flash attention,
// interleaved, after one warm-up prefill each (llama-bench warms up too). Also our process's CPU use during
// the prefill (CPUs busy on average): ggml's threads spin at barriers, so 2 threads should keep 2.0 CPUs busy.
//
//   TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import scripts/bench/prefill-vs-llama-bench.ts [DIR] [TOKENS]
//   (DIR: a shaped pair, default /tmp/llavaguard-bench-models/llavaguard-v1.2-0.5b-q8_0; TOKENS default 768)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { VisionModel } from '../../lib/runtime/VisionModel.js';
import { repoRoot } from './common.js';

const dir = process.argv[2] ?? '/tmp/llavaguard-bench-models/llavaguard-v1.2-0.5b-q8_0';
const tokens = Number(process.argv[3] ?? 768);
const rounds = 4;
const model = await VisionModel.load({
    model: path.join(dir, 'model.gguf'),
    mmproj: path.join(dir, 'mmproj.gguf'),
    mmprojThreads: 2,
});
const ctx = await model.createContext({
    contextSize: 4096,
    threads: 2,
    batchSize: 2048,
    ubatchSize: 512,
    flashAttention: 'off',
});
let text = '';
while (model.tokenize(text).length < tokens) text += 'the quick brown fox jumps over the lazy dog ';
const ours: number[] = [];
const bench: number[] = [];
const cpus: number[] = [];
await ctx.evaluate({ prompt: { text } });
for (let round = 0; round < rounds; round++) {
    await ctx.clearSequence();
    const c0 = process.cpuUsage();
    const r = await ctx.evaluate({ prompt: { text } });
    const c = process.cpuUsage(c0);
    ours.push(r.promptTokens / (r.promptMs / 1000));
    cpus.push((c.user + c.system) / 1000 / r.promptMs);
    const args = [
        '-m',
        path.join(dir, 'model.gguf'),
        '-p',
        String(r.promptTokens),
        '-n',
        '0',
        '-t',
        '2',
        '-b',
        '2048',
        '-ub',
        '512',
        '-fa',
        '0',
        '-r',
        '1',
        '-o',
        'json',
    ];
    const out = execFileSync(path.join(repoRoot, 'build/bin/llama-bench'), args, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
    });
    bench.push(JSON.parse(out)[0].avg_ts);
}
await model.close();
const list = (a: number[], digits = 1) => a.map((x) => x.toFixed(digits)).join(', ');
const sum = (a: number[]) => a.reduce((s, x) => s + x, 0);
process.stdout.write(
    `| ${tokens}-token text prefill, 2 threads | tokens/s per round | mean |\n| --- | --- | ---: |\n` +
        `| ours (in process) | ${list(ours)} | ${(sum(ours) / rounds).toFixed(1)} |\n` +
        `| llama-bench | ${list(bench)} | ${(sum(bench) / rounds).toFixed(1)} |\n` +
        `| ours: CPUs busy during the prefill | ${list(cpus, 2)} | ${(sum(cpus) / rounds).toFixed(2)} |\n`,
);
