#!/usr/bin/env node
// Builds mtmd and the addon with cmake-js, for a checkout (`npm ci` runs it through `prepare`) and for
// `npx llavaguard build`. Two routes:
//   prebuilt (default where @node-llama-cpp/<platform> is installed): links node-llama-cpp's ggml/llama shared
//     libraries of the same tree and compiles only mtmd and native/ (a few minutes); the CPU code is ggml's
//     runtime-selected variants, so the addon runs on any CPU of the platform.
//   source (LLAVAGUARD_FROM_SOURCE=1, LLAVAGUARD_NATIVE=1 or a LLAVAGUARD_GPU): ggml and llama compiled from the
//     bundle into the addon, with -march=native when LLAVAGUARD_NATIVE=1 (fastest here, runs only here).
// Environment:
//   LLAVAGUARD_GPU=cuda|metal|vulkan   compile that GPU backend in (source route)
//   LLAVAGUARD_BUILD_TOOLS=1           also llama-mtmd-cli, llama-bench and llama-server (benchmarks, reference checks)
//   LLAVAGUARD_JOBS=N                  parallel compile jobs (default: all cores)
//   LLAVAGUARD_BUILD_DIR=DIR           cmake-js's build folder (default: build)
//   LLAVAGUARD_SKIP_BUILD=1            skip
//   LLAVAGUARD_BUILD_DEPS=DIR          a folder whose node_modules holds cmake-js and node-addon-api (`npx llavaguard
//                                      build` installs them there when it runs, not for every user)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageDir } from './package-dir.mjs';
import { prebuiltPackage } from './prebuilt-package.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
// Where build-time packages resolve from: the checkout's own node_modules, or LLAVAGUARD_BUILD_DEPS.
const resolveFrom = env.LLAVAGUARD_BUILD_DEPS
    ? join(env.LLAVAGUARD_BUILD_DEPS, 'package.json')
    : join(root, 'package.json');
if (env.LLAVAGUARD_SKIP_BUILD === '1') {
    console.log('llavaguard: LLAVAGUARD_SKIP_BUILD=1, not building the native addon');
    process.exit(0);
}
const gpu = (env.LLAVAGUARD_GPU ?? '').toLowerCase();
if (gpu && !['cpu', 'cuda', 'metal', 'vulkan'].includes(gpu)) {
    console.error(`llavaguard: LLAVAGUARD_GPU must be cpu, cuda, metal or vulkan (got '${gpu}')`);
    process.exit(1);
}
const native = env.LLAVAGUARD_NATIVE === '1';
const buildDir = resolve(root, env.LLAVAGUARD_BUILD_DIR ?? 'build');

execFileSync(process.execPath, [join(root, 'scripts', 'extract-llama.mjs')], { stdio: 'inherit' });

const pkg = prebuiltPackage();
let prebuiltDir = null;
if (env.LLAVAGUARD_FROM_SOURCE !== '1' && !native && (gpu === '' || gpu === 'cpu') && pkg) {
    try {
        prebuiltDir = join(packageDir(`@node-llama-cpp/${pkg}`, join(root, 'package.json')), 'bins', pkg);
    } catch {
        console.log(`llavaguard: @node-llama-cpp/${pkg} is not installed: building ggml and llama from source`);
    }
}

const args = ['--out', buildDir, '--parallel', String(env.LLAVAGUARD_JOBS ?? availableParallelism())];
const tools = env.LLAVAGUARD_BUILD_TOOLS === '1' || env.LLAVAGUARD_BUILD_TOOLS === 'ON';
args.push(`--CDLLAVAGUARD_BUILD_TOOLS=${tools ? 'ON' : 'OFF'}`);
if (prebuiltDir) {
    args.push(`--CDLLAVAGUARD_LLAMA_PREBUILT_DIR=${prebuiltDir}`, `--CDLLAVAGUARD_PREBUILT_PACKAGE=${pkg}`);
} else {
    args.push('--CDLLAVAGUARD_LLAMA_PREBUILT_DIR=', `--CDGGML_NATIVE=${native ? 'ON' : 'OFF'}`);
    if (gpu) args.push(`--CDLLAVAGUARD_GPU=${gpu}`);
}
const started = Date.now();
const cmakeJs = join(packageDir('cmake-js', resolveFrom), 'bin', 'cmake-js');
const nodePath = env.LLAVAGUARD_BUILD_DEPS ? join(env.LLAVAGUARD_BUILD_DEPS, 'node_modules') : env.NODE_PATH;
// configure, then build: cmake-js's `compile` keeps an existing configuration and would ignore changed options.
for (const step of ['configure', 'build']) {
    execFileSync(process.execPath, [cmakeJs, step, ...args], {
        cwd: root,
        stdio: 'inherit',
        env: { ...env, NODE_PATH: nodePath },
    });
}

// What the loader (lib/bindings) needs to know about this build.
const bundleHead = readFileSync(join(root, 'deps', 'llama.cpp', '.llavaguard-stamp'), 'utf8').slice(0, 12);
const manifest = {
    llama: prebuiltDir ? 'prebuilt' : 'source',
    prebuiltPackage: prebuiltDir ? `@node-llama-cpp/${pkg}` : null,
    gpu: prebuiltDir ? null : gpu || 'cpu',
    native,
    stamp: bundleHead,
    builtAt: new Date().toISOString(),
};
const addon = join(buildDir, 'Release', 'llavaguard.node');
if (!existsSync(addon)) throw new Error(`llavaguard: the build did not produce ${addon}`);
writeFileSync(join(buildDir, 'Release', 'llavaguard-build.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(
    `llavaguard: native build (${manifest.llama}${native ? ', -march=native' : ''}) done in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
