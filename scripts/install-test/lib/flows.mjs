// The three consumers: npm install, pnpm add, and the npm project moved elsewhere; each a sequence of checks.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { assertCpuOnly, newProject } from './consumer.mjs';
import { buildPathStrings, neededLibraries, runpath } from './files.mjs';
import { coldInstall, sizeCheck, warmInstall } from './installs.mjs';
import { assert, check, run } from './harness.mjs';
import { NPM_LAYOUT, PNPM_LAYOUT, demo, nativeFrom, probe } from './probes.mjs';
import { MAX_INSTALL_S, MINUTE, PNPM_VERSION, report, tmp } from './settings.mjs';

/** The demo in the project, as a fatal check; the model pair it made goes into ctx for the probes. */
function demoCheck(ctx, side, name, command, argv, project) {
    return check(
        name,
        async () => {
            const r = await demo(command, argv, project, ctx.env, side);
            ctx.pair = r.pair;
            return r.detail;
        },
        { fatal: true },
    );
}

export async function npmFlow(ctx) {
    const { env, userconfig, registry } = ctx;
    const project = newProject('npm-consumer');
    const installArgs = [
        'install',
        'llavaguard',
        '--ignore-scripts',
        '--registry',
        registry.url,
        '--userconfig',
        userconfig,
        '--no-audit',
        '--no-fund',
    ];
    await coldInstall('npm', 'npm: npm install llavaguard --ignore-scripts (cold caches)', 'npm', installArgs, {
        cwd: project,
        env,
    });
    const nodeModules = join(project, 'node_modules');
    await check('npm: CPU-only node_modules (no CUDA, Vulkan, arm, armv7)', () => assertCpuOnly(nodeModules));
    await sizeCheck('npm', nodeModules);
    const addonFile = join(nodeModules, '@llavaguard', 'linux-x64', 'llavaguard.node');
    await check('npm: installed llavaguard.node RUNPATH is $ORIGIN-relative only (readelf -d)', () => {
        const entries = runpath(addonFile);
        assert(entries.length > 0, 'no RUNPATH: the addon would not find libllama beside it');
        const bad = entries.filter((e) => !e.startsWith('$ORIGIN'));
        assert(bad.length === 0, `absolute entries: ${bad.join(':')}`);
        return entries.join(':');
    });
    const leaked = buildPathStrings(addonFile);
    report.buildPathStrings = leaked.length;
    if (leaked.length > 0)
        console.log(
            `note  llavaguard.node holds ${leaked.length} absolute source paths of its build (e.g. ${leaked[0]})`,
        );
    await demoCheck(ctx, 'npm', 'npm: npx llavaguard demo', 'npx', ['--no', 'llavaguard', 'demo'], project);
    await check('npm: ESM import { LlavaGuard, Policy } + native assess', async () => {
        const { results } = await probe('probe.mjs', project, env, ctx.pair);
        return nativeFrom(results[0], project, NPM_LAYOUT);
    });
    await check("npm: CommonJS require('llavaguard') + native assess", async () => {
        const { results, warning } = await probe('probe.cjs', project, env, ctx.pair);
        nativeFrom(results[0], project, NPM_LAYOUT);
        return `require(esm) works${warning ? ` (stderr: ${warning})` : ''}`;
    });
    await warmInstall(
        'npm',
        `npm: install again with a warm npm cache (the download left out) under ${MAX_INSTALL_S} s`,
        'npm',
        installArgs,
        env,
    );
    ctx.npmProject = project;
}

export async function pnpmFlow(ctx) {
    const { env, registry } = ctx;
    const project = newProject('pnpm-consumer');
    const addArgs = ['add', 'llavaguard', '--registry', registry.url, '--reporter', 'append-only'];
    await coldInstall('pnpm', `pnpm ${PNPM_VERSION}: pnpm add llavaguard (cold store)`, 'pnpm', addArgs, {
        cwd: project,
        env,
    });
    const nodeModules = join(project, 'node_modules');
    await check('pnpm: CPU-only node_modules (no CUDA, Vulkan, arm, armv7)', () => assertCpuOnly(nodeModules));
    // the files are hard links into pnpm's store: node_modules counts them once; the store adds its index
    const store = join(env.HOME, '.local', 'share', 'pnpm', 'store');
    await sizeCheck('pnpm', nodeModules, existsSync(store) ? store : undefined);
    await demoCheck(ctx, 'pnpm', 'pnpm: pnpm exec llavaguard demo', 'pnpm', ['exec', 'llavaguard', 'demo'], project);
    await check(
        'pnpm: ESM import + native assess (addon finds libllama through RUNPATH across .pnpm links)',
        async () => {
            const { results } = await probe('probe.mjs', project, env, ctx.pair);
            return nativeFrom(results[0], project, PNPM_LAYOUT);
        },
    );
    await warmInstall('pnpm', `pnpm: install again with a warm store under ${MAX_INSTALL_S} s`, 'pnpm', addArgs, env);
}

export async function relocationFlow(ctx) {
    const moved = join(tmp, 'elsewhere', 'deeper', 'app');
    mkdirSync(dirname(moved), { recursive: true });
    await check(
        'relocation: cp -a the npm project elsewhere, delete the original',
        async () => {
            await run('cp', ['-a', ctx.npmProject, moved], { timeoutMs: 5 * MINUTE });
            rmSync(ctx.npmProject, { recursive: true, force: true });
            return moved;
        },
        { fatal: true },
    );
    // run from a folder holding a decoy of every library the addon could look for: a search that reached the
    // current folder (an empty RUNPATH entry, a relative dlopen) would map or choke on one of them
    const decoys = plantDecoys(join(moved, 'node_modules'));
    const layout = { ...NPM_LAYOUT, notUnder: [`${ctx.npmProject}/`, `${decoys.dir}/`] };
    await check('relocation: loads and assesses in the main thread and in a worker_thread', async () => {
        const { results } = await probe('probe.mjs', moved, ctx.env, { ...ctx.pair, worker: true }, decoys.dir);
        assert(results.length === 2 && results[1].threadId !== results[0].threadId, 'no worker result');
        for (const r of results) nativeFrom(r, moved, layout);
        const ratings = results.map((r) => `thread ${r.threadId}: ${r.assessment.rating}`).join(', ');
        return `${ratings}; run from a folder of ${decoys.count} decoy libraries, none mapped`;
    });
}

/** A folder of garbage files named like the addon, node-llama-cpp's libraries and every library they need. */
function plantDecoys(nodeModules) {
    const dir = join(tmp, 'decoy-cwd');
    mkdirSync(dir);
    const libs = join(nodeModules, '@node-llama-cpp', 'linux-x64', 'bins', 'linux-x64');
    const elves = [join(nodeModules, '@llavaguard', 'linux-x64', 'llavaguard.node')];
    for (const f of readdirSync(libs)) if (/\.so|\.node$/.test(f)) elves.push(join(libs, f));
    const names = new Set([...elves.map((f) => f.slice(f.lastIndexOf('/') + 1)), 'libgomp.so.1']);
    for (const f of elves) for (const lib of neededLibraries(f)) names.add(lib);
    for (const name of names) writeFileSync(join(dir, name), 'not a library\n');
    return { dir, count: names.size };
}
