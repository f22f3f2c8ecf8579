import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../bindings/loadAddon.js';
import { demoCacheDir } from './demo.js';

/** What the source build needs, pinned as in the checkout's package.json. */
const BUILD_DEPS = { 'node-llama-cpp': '3.21.1', 'cmake-js': '8.0.0', 'node-addon-api': '8.9.2' } as const;

interface BuildOptions {
    gpu?: string;
    native?: boolean;
    jobs?: string;
    tools?: boolean;
}

function need(tool: string, args: string[] = ['--version']): string | undefined {
    const r = spawnSync(tool, args, { stdio: 'ignore' });
    return r.error || r.status !== 0 ? tool : undefined;
}

function npm(args: string[], cwd: string): string {
    return execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, encoding: 'utf8' });
}

/**
 * cmake-js and node-addon-api installed into a cache folder, and llama.cpp's git bundle taken out of
 * node-llama-cpp's tarball (installing node-llama-cpp would bring its dependencies and GPU packages): what a source
 * build needs, fetched when it runs instead of installed for every user.
 */
function fetchBuildDeps(): { deps: string; bundle: string } {
    const deps = join(demoCacheDir(), 'build-deps', `node-llama-cpp-${BUILD_DEPS['node-llama-cpp']}`);
    const bundle = join(deps, 'package', 'llama', 'gitRelease.bundle');
    mkdirSync(deps, { recursive: true });
    if (
        !existsSync(join(deps, 'node_modules', 'cmake-js')) ||
        !existsSync(join(deps, 'node_modules', 'node-addon-api'))
    ) {
        console.log('llavaguard build: installing cmake-js and node-addon-api into', deps);
        npm(
            [
                'install',
                '--prefix',
                deps,
                '--no-save',
                '--no-audit',
                '--no-fund',
                '--ignore-scripts',
                `cmake-js@${BUILD_DEPS['cmake-js']}`,
                `node-addon-api@${BUILD_DEPS['node-addon-api']}`,
            ],
            deps,
        );
    }
    if (!existsSync(bundle)) {
        console.log(`llavaguard build: fetching llama.cpp's source (node-llama-cpp@${BUILD_DEPS['node-llama-cpp']})`);
        const [packed] = JSON.parse(npm(['pack', '--json', `node-llama-cpp@${BUILD_DEPS['node-llama-cpp']}`], deps));
        const tarball = join(deps, packed.filename);
        execFileSync('tar', ['-xzf', tarball, 'package/llama/gitRelease.bundle'], { cwd: deps });
        rmSync(tarball);
    }
    return { deps, bundle };
}

/** The checkout's own node_modules has everything (a contributor's `npm ci`). */
function inCheckout(root: string): boolean {
    return (
        existsSync(join(root, 'node_modules', 'cmake-js')) && existsSync(join(root, 'node_modules', 'node-llama-cpp'))
    );
}

export function registerBuild(program: Command): void {
    program
        .command('build')
        .description(
            "build the native addon from llama.cpp's source into this package (found before the prebuilt one): for platforms without a package, -march=native speed, a GPU backend compiled in, or a patched tree; needs git, cmake and a C++17 compiler",
        )
        .option('--gpu <backend>', 'compile a GPU backend in: cuda, vulkan or metal')
        .option(
            '--native',
            "compile for this machine's CPU (-march=native, AMX left out): fastest here, runs only here",
        )
        .option('--tools', "also build llama.cpp's llama-mtmd-cli and llama-bench")
        .option('-j, --jobs <n>', 'parallel compile jobs (default: all cores)')
        .action((options: BuildOptions) => {
            if (options.gpu && !['cuda', 'vulkan', 'metal'].includes(options.gpu)) {
                throw new Error(`--gpu must be cuda, vulkan or metal (got '${options.gpu}')`);
            }
            const missing = [
                need('git'),
                need('cmake'),
                need(process.platform === 'win32' ? 'cl' : 'c++', ['--version']),
            ];
            if (missing.some(Boolean)) {
                throw new Error(`a source build needs ${missing.filter(Boolean).join(', ')} on PATH (not found)`);
            }
            const root = packageRoot();
            const env: NodeJS.ProcessEnv = { ...process.env, LLAVAGUARD_BUILD_TOOLS: options.tools ? '1' : '0' };
            if (options.gpu) env.LLAVAGUARD_GPU = options.gpu;
            if (options.native) env.LLAVAGUARD_NATIVE = '1';
            if (options.jobs) env.LLAVAGUARD_JOBS = options.jobs;
            if (!inCheckout(root)) {
                const { deps, bundle } = fetchBuildDeps();
                env.LLAVAGUARD_BUILD_DEPS = deps;
                env.LLAVAGUARD_LLAMA_BUNDLE = bundle;
            }
            if (!options.native && !options.gpu) {
                console.log(
                    'llavaguard build: without --native, code built from source runs on any CPU of this platform but uses none of its newer instruction sets',
                );
            }
            const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], {
                cwd: root,
                env: { ...env, LLAVAGUARD_FROM_SOURCE: '1' },
                stdio: 'inherit',
            });
            if (r.status !== 0) throw new Error(`the build failed (exit ${r.status ?? r.signal})`);
            const manifest = JSON.parse(readFileSync(join(root, 'build', 'Release', 'llavaguard-build.json'), 'utf8'));
            console.log(
                `llavaguard build: ${join(root, 'build', 'Release', 'llavaguard.node')} (${manifest.llama}, gpu ${manifest.gpu}${manifest.native ? ', -march=native' : ''}) is now used before the prebuilt package; delete build/ to go back`,
            );
        });
}
