// The consumer: a PATH of node, npm, npx, pnpm and a few plain tools (no compiler), an environment that
// inherits nothing, empty projects holding the probes, and what a CPU-only install may contain.
import { execFileSync } from 'node:child_process';
import {
    accessSync,
    constants,
    copyFileSync,
    mkdirSync,
    readdirSync,
    realpathSync,
    symlinkSync,
    writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { findDirs } from './files.mjs';
import { assert } from './harness.mjs';
import { COMPILERS, PLAIN_TOOLS, here, tmp } from './settings.mjs';

/** A bin folder with node, npm, npx, pnpm and a few plain tools: the whole PATH of the consumer commands. */
export function makeBin(pnpmBin) {
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
    const links = {
        node: process.execPath,
        npm: npmCli,
        npx: join(dirname(npmCli), 'npx-cli.js'),
        pnpm: pnpmBin,
    };
    for (const tool of PLAIN_TOOLS)
        links[tool] = realpathSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim());
    for (const [name, target] of Object.entries(links)) symlinkSync(target, join(bin, name));
    return bin;
}

/** A fresh environment, nothing inherited: no npm_config_* of an outer `npm run`, no LLAVAGUARD_ADDON. */
export function consumerEnv(bin, registry) {
    const home = join(tmp, 'home');
    mkdirSync(home, { recursive: true });
    const userconfig = join(tmp, 'consumer.npmrc');
    const globalconfig = join(tmp, 'consumer-global.npmrc');
    writeFileSync(userconfig, `registry=${registry}\n`);
    writeFileSync(globalconfig, '');
    return {
        env: {
            PATH: bin,
            HOME: home,
            TMPDIR: join(tmp, 'consumer-tmp'),
            LANG: 'C.UTF-8',
            LLAVAGUARD_CACHE: join(tmp, 'llavaguard-cache'),
            npm_config_userconfig: userconfig,
            npm_config_globalconfig: globalconfig,
            npm_config_update_notifier: 'false',
        },
        userconfig,
    };
}

/** An empty project with the probes (scripts/install-test/probe*.{mjs,cjs}). */
export function newProject(name) {
    const dir = join(tmp, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true })}\n`);
    for (const f of ['probe.mjs', 'probe.cjs', 'probe-core.cjs']) copyFileSync(join(here, f), join(dir, f));
    return dir;
}

export function assertNoCompiler(bin) {
    const found = [];
    for (const dir of bin.split(':'))
        for (const tool of COMPILERS) {
            try {
                accessSync(join(dir, tool), constants.X_OK);
                found.push(join(dir, tool));
            } catch {
                // not there: good
            }
        }
    assert(found.length === 0, `compilers on the consumer PATH: ${found.join(', ')}`);
    return `PATH=${bin} (${readdirSync(bin).join(' ')}); none of ${COMPILERS.join(' ')}`;
}

/** What only the CPU install should hold: no node-llama-cpp, none of its GPU or other-architecture packages. */
export function assertCpuOnly(nodeModules) {
    const wrong = findDirs(nodeModules, (path) => {
        const name = path.slice(path.lastIndexOf('/') + 1);
        const parent = path.slice(0, path.lastIndexOf('/'));
        if (parent.endsWith('/@node-llama-cpp') && name !== 'linux-x64') return true;
        if (parent.endsWith('/node_modules') && name === 'node-llama-cpp') return true;
        // pnpm's flat store folder names: @node-llama-cpp+linux-x64-cuda@3.21.1
        return /^@node-llama-cpp\+(?!linux-x64@)|^node-llama-cpp@|^@llavaguard\+linux-x64-(cuda|vulkan)@/.test(name);
    });
    const gpu = findDirs(nodeModules, (path) => /\/@llavaguard\/linux-x64-(cuda|vulkan)$/.test(path));
    const all = [...wrong, ...gpu].map((p) => p.slice(nodeModules.length + 1));
    assert(all.length === 0, `a CPU-only install received: ${all.join(', ')}`);
    const libs = findDirs(nodeModules, (path) => path.endsWith('/@node-llama-cpp/linux-x64/bins/linux-x64'));
    assert(libs.length === 1, `@node-llama-cpp/linux-x64's libraries found ${libs.length} times`);
    const names = readdirSync(libs[0]).filter((f) => /ggml-(cuda|vulkan|metal)/.test(f));
    assert(names.length === 0, `GPU backends among the CPU libraries: ${names.join(', ')}`);
    return 'no node-llama-cpp, no @node-llama-cpp/linux-x64-cuda*/-vulkan/linux-arm*, no GPU package';
}
