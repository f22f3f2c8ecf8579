#!/usr/bin/env node
// Builds ggml, llama, mtmd and the addon with cmake-js (run by `npm install` / `npm ci`).
//   LLAVAGUARD_GPU=cpu|cuda|metal|vulkan  the GPU backend (default: metal on Apple Silicon, else cpu)
//   LLAVAGUARD_BUILD_TOOLS=1              also llama-mtmd-cli and llama-bench, for `npm run bench`
//   LLAVAGUARD_JOBS=N                     parallel compile jobs (default: all cores)
//   LLAVAGUARD_SKIP_BUILD=1               skip (e.g. when installing only the TypeScript parts)
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageDir } from './package-dir.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.LLAVAGUARD_SKIP_BUILD === '1') {
    console.log('llavaguard: LLAVAGUARD_SKIP_BUILD=1, not building the native addon');
    process.exit(0);
}
const gpu = (process.env.LLAVAGUARD_GPU ?? '').toLowerCase();
if (gpu && !['cpu', 'cuda', 'metal', 'vulkan'].includes(gpu)) {
    console.error(`llavaguard: LLAVAGUARD_GPU must be cpu, cuda, metal or vulkan (got '${gpu}')`);
    process.exit(1);
}
execFileSync(process.execPath, [join(root, 'scripts', 'extract-llama.mjs')], { stdio: 'inherit' });

const args = ['compile', '--parallel', String(process.env.LLAVAGUARD_JOBS ?? availableParallelism())];
if (gpu) args.push(`--CDLLAVAGUARD_GPU=${gpu}`);
const tools = process.env.LLAVAGUARD_BUILD_TOOLS;
args.push(`--CDLLAVAGUARD_BUILD_TOOLS=${tools === '1' || tools === 'ON' ? 'ON' : 'OFF'}`);
const started = Date.now();
const cmakeJs = join(packageDir('cmake-js'), 'bin', 'cmake-js');
execFileSync(process.execPath, [cmakeJs, ...args], { cwd: root, stdio: 'inherit' });
console.log(`llavaguard: native build done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
