// `npm run bench:types`: weight and KV-cache types by measurement (issue #21 item 3).
//
//   npm run bench:types -- [--speed-only | --fidelity-only] [--json FILE] [--threads 2] [--rounds 2] [--ubatch 128]
//                          [--models /tmp/llavaguard-bench-models] [--work /tmp/llavaguard-bench-types]
//                          [--families onevision,llava15]
//
// Speed, on the shape-faithful 0.5B pair (gguf/synthetic/shapes.ts; random weights run at the real weights' speed):
//   text model F16 / BF16 / Q8_0 (written by the generator) and Q4_0 / Q4_K_M (our quantizer, lib/tools/quantize.ts,
//   from the F16 file): llama-bench -p 512 -n 32 with flash attention off, the library's CPU micro-batch and the
//   given threads, and its process's peak RSS; whether llama.cpp repacked the weights for this CPU (the CPU_REPACK
//   buffer and the layouts in its load log); KV cache F16 / Q8_0 on the Q8_0 model (llama-bench -ctk/-ctv;
//   llama.cpp refuses a quantized V cache without flash attention) and what the cache weighs at the real shapes;
//   mmproj F16 / Q8_0: encode time of one tile through our addon and the embeddings' distance (types-encode.ts);
//   the peak RSS of a fresh process that loads the Q8_0 model with each mmproj and runs one LlavaGuard.score()
//   (run-guard.ts). The llama-bench configurations run once per round, interleaved, and the best round is the
//   headline: on a shared host that is the least disturbed one.
// Fidelity, on the reference checks' tiny transformers-made checkpoints: types-fidelity.ts.
//
// The models are written once into --models (about 5 GB) and reused. The machine may be shared: the load average
// is sampled during the run and printed with the tables. Heavy: run under `nice` on a shared host.

import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { load1, log, repoRoot } from './common.js';
import { runFidelity } from './types-fidelity.js';
import { FIDELITY_CONFIGS, type Family, type FidelityResult } from './types-fidelity-configs.js';
import { fidelityTables, speedTables } from './types-report.js';
import { speed, type SpeedResult } from './types-speed.js';

const { values: opt } = parseArgs({
    options: {
        'speed-only': { type: 'boolean', default: false },
        'fidelity-only': { type: 'boolean', default: false },
        json: { type: 'string' },
        threads: { type: 'string', default: '2' },
        rounds: { type: 'string', default: '2' },
        ubatch: { type: 'string', default: '128' },
        models: { type: 'string', default: '/tmp/llavaguard-bench-models' },
        work: { type: 'string', default: '/tmp/llavaguard-bench-types' },
        families: { type: 'string', default: 'onevision,llava15' },
        'llama-bench': { type: 'string', default: path.join(repoRoot, 'build/bin/llama-bench') },
    },
});
if (opt['speed-only'] && opt['fidelity-only']) throw new Error('--speed-only and --fidelity-only exclude each other');
const threads = Number(opt.threads);
const rounds = Number(opt.rounds);
const ubatch = Number(opt.ubatch);

// ---- the machine's load, sampled through the run
const loads: number[] = [load1()];
const loadTimer = setInterval(() => loads.push(load1()), 5000);
const started = performance.now();

const cpuModel = os.cpus()[0]?.model ?? '?';
const flags = (() => {
    try {
        const f = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
        return f ? f[1]!.split(' ') : [];
    } catch {
        return [];
    }
})();

let speedResult: SpeedResult | undefined;
let fidelityResult: FidelityResult | undefined;
try {
    if (!opt['fidelity-only'])
        speedResult = await speed({
            bin: opt['llama-bench']!,
            models: opt.models!,
            threads,
            rounds,
            ubatch,
        });
    if (!opt['speed-only'])
        fidelityResult = await runFidelity({
            families: opt.families!.split(',').map((f) => f.trim()) as Family[],
            work: opt.work!,
        });
} finally {
    clearInterval(loadTimer);
}
loads.push(load1());
const load = {
    mean: loads.reduce((a, b) => a + b, 0) / loads.length,
    max: Math.max(...loads),
    samples: loads.length,
};
const minutes = (performance.now() - started) / 60000;
const header = `bench:types on ${cpuModel} (${os.availableParallelism()} cores; ${['avx2', 'avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_tile'].filter((f) => flags.includes(f)).join(', ') || 'flags unknown'}), ${new Date().toISOString()}: ${minutes.toFixed(1)} min, load average (1 min) mean ${load.mean.toFixed(1)}, max ${load.max.toFixed(1)} over ${load.samples} samples`;
const text = [
    header,
    '',
    speedResult ? speedTables(speedResult) : '',
    '',
    fidelityResult ? fidelityTables(fidelityResult) : '',
]
    .filter((s, i, a) => s !== '' || a[i - 1] !== '')
    .join('\n');
process.stdout.write(`${text}\n`);
if (opt.json) {
    writeFileSync(
        opt.json,
        JSON.stringify(
            {
                date: new Date().toISOString(),
                cpu: cpuModel,
                cores: os.availableParallelism(),
                load,
                minutes,
                speed: speedResult,
                fidelity: fidelityResult && { ...fidelityResult, configs: FIDELITY_CONFIGS },
            },
            null,
            2,
        ),
    );
    log(`wrote ${opt.json}`);
}
