#!/usr/bin/env node
// npm run fuzz -- TARGET [--seconds N] [--no-build] [--regression]
// Compiles the fuzz targets (scripts/fuzz/tsconfig.json → .cache/fuzz/build), writes the target's seeds, and runs
// Jazzer.js (libFuzzer) on it for N seconds with lib/ and gguf/ instrumented. The growing corpus stays in
// .cache/fuzz/corpus/TARGET (later runs continue from it), findings go to .cache/fuzz/artifacts/TARGET/, the log to
// .cache/fuzz/logs/, and one JSON line per run (executions, exec/s, coverage, findings) to .cache/fuzz/runs.jsonl.
// --regression replays the corpus and test/fixtures/fuzz/TARGET once instead of fuzzing.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jazzerCompatEnv } from './glibc-compat/prepare.mjs';

const TARGETS = {
    'gguf-reader': { timeoutMs: 10_000, maxLen: 131_072 },
    'model-files': { timeoutMs: 120_000, maxLen: 131_072 },
    // Edit lists are short: let them reach max_len at once instead of libFuzzer's slow length ramp.
    'model-edits': { timeoutMs: 120_000, maxLen: 256, flags: ['-len_control=0'] },
    image: { timeoutMs: 10_000, maxLen: 16_384 },
    'policy-manifest': { timeoutMs: 10_000, maxLen: 16_384 },
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const target = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const flag = (name) => args.includes(name);
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 60);
if (!target || !(target in TARGETS) || (args.includes('--seconds') && !(seconds > 0))) {
    console.error(
        `usage: npm run fuzz -- TARGET [--seconds N] [--no-build] [--regression]\ntargets: ${Object.keys(TARGETS).join(', ')}`,
    );
    process.exit(2);
}
const { timeoutMs, maxLen, flags = [] } = TARGETS[target];
const cache = join(root, '.cache', 'fuzz');
const build = join(cache, 'build');
const dirs = {
    corpus: join(cache, 'corpus', target),
    seeds: join(cache, 'seeds', target),
    artifacts: join(cache, 'artifacts', target),
    logs: join(cache, 'logs'),
    fixtures: join(root, 'test', 'fixtures', 'fuzz', target),
};
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });

const run = (cmd, argv) => {
    const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!flag('--no-build')) {
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'scripts/fuzz/tsconfig.json']);
    run(process.execPath, [join(build, 'scripts', 'fuzz', 'seeds.js'), target, dirs.seeds]);
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logPath = join(dirs.logs, `${target}-${stamp}.log`);
const jazzer = join(root, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js');
const corpora = [dirs.corpus, dirs.seeds, dirs.fixtures];
const argv = [
    jazzer,
    join(build, 'scripts', 'fuzz', 'targets', `${target}.js`),
    '--includes=fuzz/build/lib/',
    '--includes=fuzz/build/gguf/',
    `--timeout=${timeoutMs}`,
    ...(flag('--regression') ? ['--mode=regression'] : []),
    ...corpora.filter((d) => readdirSync(d).length > 0 || d === dirs.corpus),
    '--',
    ...(flag('--regression') ? [] : [`-max_total_time=${seconds}`]),
    `-max_len=${maxLen}`,
    `-artifact_prefix=${dirs.artifacts}/`,
    '-print_final_stats=1',
    ...flags,
    `-rss_limit_mb=${target.startsWith('model-') ? 4096 : 2048}`,
];
console.log(`fuzzing ${target} for ${seconds} s; log ${logPath}`);
const log = createWriteStream(logPath);
const env = { ...process.env, ...jazzerCompatEnv(root, cache) };
const child = spawn(process.execPath, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
let tail = '';
for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (d) => {
        log.write(d);
        process.stdout.write(d);
        tail = (tail + d).slice(-200_000);
    });
}
const started = Date.now();
child.on('close', (code, signal) => {
    log.end();
    const summary = {
        target,
        seconds: Math.round((Date.now() - started) / 1000),
        code,
        signal,
        ...stats(tail),
        log: logPath,
    };
    summary.findings = readdirSync(dirs.artifacts).filter((f) => /^(crash|timeout|oom|leak|slow-unit)-/.test(f));
    appendFileSync(join(cache, 'runs.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), ...summary })}\n`);
    console.log(`\n${JSON.stringify(summary)}`);
    process.exit(code ?? 1);
});

/** The last libFuzzer status line ("#N ... cov: C ft: F corp: K/S ... exec/s: E") and the final stats. */
function stats(text) {
    const lines = [...text.matchAll(/^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)\/\S+.*?exec\/s: (\d+)/gm)];
    const last = lines.at(-1);
    const fin = (name) => Number(new RegExp(`stat::${name}:\\s+(\\d+)`).exec(text)?.[1] ?? Number.NaN);
    return {
        executions: Number.isNaN(fin('number_of_executed_units'))
            ? Number(last?.[1] ?? 0)
            : fin('number_of_executed_units'),
        execPerSec: Number.isNaN(fin('average_exec_per_sec')) ? Number(last?.[5] ?? 0) : fin('average_exec_per_sec'),
        coverage: Number(last?.[2] ?? 0),
        features: Number(last?.[3] ?? 0),
        corpus: Number(last?.[4] ?? 0),
        peakRssMb: fin('peak_rss_mb'),
    };
}
