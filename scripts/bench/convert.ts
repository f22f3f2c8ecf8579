// Time and peak memory of `llavaguard convert` on full-size random Hugging Face checkpoints with the real
// shapes (gguf/synthetic/hf/shaped-hf.ts), run as a child process under /usr/bin/time -v.
//
//   npm run build && npm run bench:convert -- [--models 0.5b,7b] [--types f16,q8_0] [--dir /tmp/llavaguard-bench-hf] [--keep]
//   (= TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import scripts/bench/convert.ts ...)
//
// Each checkpoint is written to --dir (outside the repository: 1.8 GB for 0.5b, 14.1 GB for 7b), converted once
// per --types entry into --dir/out-<model>-<type> (deleted after it is measured), and deleted at the end unless
// --keep. Prints a markdown table; results.json in --dir keeps the figures. The CLI is the built one
// (dist/lib/cli/main.js), so build first. On a shared machine run it under `nice`; the 1-minute load average
// is sampled during each conversion (it includes the conversion itself, ~1).

import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { makeShapedHfFolder, planShapedHf, type ShapedHfId } from '../../gguf/synthetic/hf/shaped-hf.js';

const MODELS: Record<string, ShapedHfId> = { '0.5b': 'llavaguard-v1.2-0.5b-ov-hf', '7b': 'llavaguard-v1.1-7b-hf' };
const TYPES = ['f16', 'q8_0', 'f32'];

const { values } = parseArgs({
    options: {
        models: { type: 'string', default: '0.5b' },
        types: { type: 'string', default: 'f16,q8_0' },
        dir: { type: 'string', default: '/tmp/llavaguard-bench-hf' },
        seed: { type: 'string', default: '0' },
        keep: { type: 'boolean', default: false },
    },
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/lib/cli/main.js');
if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc)`);
if (!existsSync('/usr/bin/time'))
    throw new Error('/usr/bin/time is needed for the peak-RSS figures (apt-get install time)');
const dir = path.resolve(values.dir);
if (!path.relative(root, dir).startsWith('..'))
    throw new Error(`--dir ${dir} is inside the repository; use a folder outside it (gigabytes)`);
const models = values.models.split(',').map((m) => {
    const id = MODELS[m.trim()];
    if (!id) throw new Error(`--models: unknown '${m}' (${Object.keys(MODELS).join(', ')})`);
    return id;
});
const types = values.types.split(',').map((t) => t.trim());
for (const t of types) if (!TYPES.includes(t)) throw new Error(`--types: unknown '${t}' (${TYPES.join(', ')})`);

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const size = (b: number) => (b >= GiB ? `${(b / GiB).toFixed(2)} GiB` : `${(b / MiB).toFixed(0)} MiB`);
const secs = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`);
const log = (s: string) => process.stderr.write(`${s}\n`);

interface TimeV {
    wallS: number;
    userS: number;
    sysS: number;
    maxRssKiB: number;
    exit: number;
}

/** The figures of GNU time -v's report. */
function parseTimeV(text: string): TimeV {
    const field = (label: string) => {
        const m = new RegExp(`${label.replace(/[()]/g, '\\$&')}: (.+)`).exec(text);
        if (!m) throw new Error(`/usr/bin/time -v: no '${label}' in:\n${text}`);
        return m[1]!.trim();
    };
    const wall = field('Elapsed (wall clock) time (h:mm:ss or m:ss)').split(':').map(Number);
    const wallS = wall.reduce((a, b) => a * 60 + b, 0);
    return {
        wallS,
        userS: Number(field('User time (seconds)')),
        sysS: Number(field('System time (seconds)')),
        maxRssKiB: Number(field('Maximum resident set size (kbytes)')),
        exit: Number(field('Exit status')),
    };
}

interface Row {
    model: ShapedHfId;
    type: string;
    inputBytes: number;
    inputFiles: number;
    modelBytes: number;
    mmprojBytes: number;
    wallS: number;
    cpuS: number;
    maxRssMiB: number;
    load: { mean: number; max: number };
    date: string;
}

async function convert(
    input: string,
    out: string,
    type: string,
): Promise<{ t: TimeV; load: { mean: number; max: number }; stdout: string }> {
    const loads: number[] = [os.loadavg()[0]!];
    const timer = setInterval(() => loads.push(os.loadavg()[0]!), 5000);
    try {
        const child = spawn(
            '/usr/bin/time',
            ['-v', process.execPath, cli, 'convert', input, '--out', out, '--type', type, '--quiet'],
            {
                stdio: ['ignore', 'pipe', 'pipe'],
            },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const code = await new Promise<number>((resolve, reject) => {
            child.on('error', reject);
            child.on('close', (c) => resolve(c ?? -1));
        });
        loads.push(os.loadavg()[0]!);
        const t = parseTimeV(stderr);
        if (code !== 0 || t.exit !== 0)
            throw new Error(`llavaguard convert --type ${type} failed (exit ${code}):\n${stderr}`);
        return { t, load: { mean: loads.reduce((a, b) => a + b, 0) / loads.length, max: Math.max(...loads) }, stdout };
    } finally {
        clearInterval(timer);
    }
}

const rows: Row[] = [];
await fsp.mkdir(dir, { recursive: true });
for (const id of models) {
    const plan = planShapedHf(id);
    log(
        `${id}: writing ${plan.parameters.toLocaleString('en-US')} BF16 parameters (${size(plan.bytes)}, ${plan.shards.length} file(s)) to ${dir}`,
    );
    let last = 0;
    const hf = await makeShapedHfFolder({
        id,
        outDir: dir,
        seed: Number(values.seed),
        onProgress: (p) => {
            const now = performance.now();
            if (now - last > 15_000) {
                last = now;
                log(`  ${p.file} ${((100 * p.bytesWritten) / p.totalBytes).toFixed(0)}%`);
            }
        },
    });
    log(`  written in ${secs(hf.ms / 1000)} (${size(hf.bytes)} in ${hf.files.length} files)`);
    try {
        for (const type of types) {
            const out = path.join(dir, `out-${id}-${type}`);
            await fsp.rm(out, { recursive: true, force: true });
            log(`  convert --type ${type} ...`);
            const r = await convert(hf.dir, out, type);
            const modelBytes = (await fsp.stat(path.join(out, `model-${type}.gguf`))).size;
            const mmprojBytes = (await fsp.stat(path.join(out, `mmproj-${type}.gguf`))).size;
            const row: Row = {
                model: id,
                type,
                inputBytes: hf.bytes,
                inputFiles: plan.shards.length,
                modelBytes,
                mmprojBytes,
                wallS: r.t.wallS,
                cpuS: r.t.userS + r.t.sysS,
                maxRssMiB: r.t.maxRssKiB / 1024,
                load: r.load,
                date: new Date().toISOString(),
            };
            rows.push(row);
            log(`  ${r.stdout.trim()}\n  ${JSON.stringify(row)}`);
            await fsp.writeFile(path.join(dir, 'results.json'), JSON.stringify(rows, null, 2));
            await fsp.rm(out, { recursive: true, force: true });
        }
    } finally {
        if (!values.keep) await fsp.rm(hf.dir, { recursive: true, force: true });
    }
}

const lines = [
    '| checkpoint (BF16 safetensors) | --type | output: model + mmproj | wall | CPU (user+sys) | peak RSS | load avg (1 min) |',
    '|---|---|---|---:|---:|---:|---:|',
    ...rows.map(
        (r) =>
            `| ${r.model} (${size(r.inputBytes)}, ${r.inputFiles} file${r.inputFiles > 1 ? 's' : ''}) | ${r.type} | ${size(r.modelBytes)} + ${size(r.mmprojBytes)} | ${secs(r.wallS)} | ${secs(r.cpuS)} | ${r.maxRssMiB.toFixed(0)} MiB | ${r.load.mean.toFixed(1)} (max ${r.load.max.toFixed(1)}) |`,
    ),
];
process.stdout.write(`${lines.join('\n')}\n`);
