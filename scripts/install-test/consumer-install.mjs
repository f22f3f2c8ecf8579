#!/usr/bin/env node
// The consumer install, tested for real (issue 16, items 5 and 7): packs the packages as published, serves them
// from a local registry on loopback (verdaccio; everything else proxied to this machine's npm registry), and
// installs them as a user would, with npm and with pnpm 10, in empty projects, with install scripts off and no
// C++ compiler on PATH. Then runs the demo, imports the library from ESM and CommonJS, moves the npm project
// elsewhere and loads it there in the main thread and in a worker_thread. See README.md beside this file.
//   node scripts/install-test/consumer-install.mjs [--addon build/Release/llavaguard.node] [--json FILE] [--keep]
import { execFileSync, spawn } from 'node:child_process';
import {
    accessSync,
    constants,
    copyFileSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    realpathSync,
    rmSync,
    symlinkSync,
    writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values: args } = parseArgs({
    options: {
        addon: { type: 'string', default: join(root, 'build', 'Release', 'llavaguard.node') },
        json: { type: 'string' },
        keep: { type: 'boolean', default: false },
        'pnpm-version': { type: 'string', default: '10.34.9' },
        'max-install-s': { type: 'string', default: '60' },
        'max-node-modules-mb': { type: 'string', default: '100' },
    },
});
const VERDACCIO_VERSION = '6.8.0'; // 6.10 needs Node 22
const PNPM_VERSION = args['pnpm-version'];
const MAX_INSTALL_S = Number(args['max-install-s']);
const MAX_NODE_MODULES_BYTES = Number(args['max-node-modules-mb']) * 1e6;
const COMPILERS = ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'make', 'cmake', 'ninja'];
// What a consumer's PATH needs besides node (found by leaving each out): npx spawns `sh` from PATH, and pnpm's
// .bin shims are sh scripts calling dirname, sed and uname.
const PLAIN_TOOLS = ['sh', 'dirname', 'sed', 'uname'];
const PACKAGES = ['llavaguard', '@llavaguard/linux-x64', '@llavaguard/linux-x64-vulkan', '@llavaguard/linux-x64-cuda'];
const MINUTE = 60_000;

const cacheRoot = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'llavaguard-install-test');
const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'llavaguard-install-test-')));
const children = new Set();
const checks = [];
const report = { node: process.versions.node, cores: availableParallelism(), tarballs: [], npm: {}, pnpm: {} };

// ---- small helpers -------------------------------------------------------------------------------------------

const seconds = (ms) => Math.round(ms / 100) / 10;
const mb = (bytes) => Math.round(bytes / 1e5) / 10;
const tail = (text, lines = 25) => text.trim().split('\n').slice(-lines).join('\n');

/** Records one check; a failed check throws when later steps depend on it (`fatal`). */
async function check(name, fn, { fatal = false } = {}) {
    try {
        const detail = await fn();
        checks.push({ name, ok: true, detail: detail ?? '' });
        console.log(`ok    ${name}${detail ? `: ${detail}` : ''}`);
        return true;
    } catch (error) {
        checks.push({ name, ok: false, detail: error.message });
        console.log(`FAIL  ${name}\n${error.message.replace(/^/gm, '      ')}`);
        if (fatal) throw new Skip(name);
        return false;
    }
}
class Skip extends Error {}

function assert(condition, message) {
    if (!condition) throw new Error(message);
}

/** Runs a command in its own process group with a deadline; resolves with its output, throws on failure. */
function run(command, argv, { cwd, env, timeoutMs = 10 * MINUTE, allowFail = false } = {}) {
    return new Promise((resolvePromise, reject) => {
        const started = performance.now();
        const child = spawn(command, argv, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        children.add(child);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
            stdout += d;
        });
        child.stderr.on('data', (d) => {
            stderr += d;
        });
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            killGroup(child, 'SIGKILL');
        }, timeoutMs);
        child.on('error', (error) => {
            clearTimeout(timer);
            children.delete(child);
            reject(new Error(`${command}: ${error.message}`));
        });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            children.delete(child);
            const result = { code, stdout, stderr, ms: performance.now() - started };
            const shown = `${command} ${argv.join(' ')}`;
            if (timedOut)
                reject(new Error(`${shown}: no result after ${timeoutMs / 1000} s\n${tail(stdout + stderr)}`));
            else if (code !== 0 && !allowFail)
                reject(new Error(`${shown}: exit ${code ?? signal}\n${tail(`${stdout}\n${stderr}`)}`));
            else resolvePromise(result);
        });
    });
}

function killGroup(child, signal) {
    try {
        process.kill(-child.pid, signal);
    } catch {
        // already gone
    }
}

function freePort() {
    return new Promise((resolvePromise, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolvePromise(port));
        });
    });
}

/** du -sb over the given paths together: a file hard-linked twice (pnpm's store) is counted once. */
function diskBytes(...paths) {
    const out = execFileSync('du', ['-sbc', ...paths], { encoding: 'utf8' });
    return Number(out.trim().split('\n').at(-1).split('\t')[0]);
}

/** The largest packages of a node_modules folder (npm's flat layout or pnpm's .pnpm), for the report. */
function largestPackages(nodeModules, count = 6) {
    const dirs = [];
    const pnpm = join(nodeModules, '.pnpm');
    const base = existsSync(pnpm) ? pnpm : nodeModules;
    for (const { name: entry } of readdirSync(base, { withFileTypes: true }).filter((e) => e.isDirectory())) {
        if (entry.startsWith('.') || entry === 'node_modules') continue;
        if (entry.startsWith('@') && base === nodeModules)
            for (const sub of readdirSync(join(base, entry))) dirs.push(join(base, entry, sub));
        else dirs.push(join(base, entry));
    }
    if (dirs.length === 0) return [];
    const out = execFileSync('du', ['-sb', ...dirs], { encoding: 'utf8' });
    return out
        .trim()
        .split('\n')
        .map((line) => {
            const [bytes, path] = line.split('\t');
            return { name: path.slice(base.length + 1), mb: mb(Number(bytes)) };
        })
        .sort((a, b) => b.mb - a.mb)
        .slice(0, count);
}

/** Every folder below `dir` (symlinks not followed) whose name matches. */
function findDirs(dir, match, found = []) {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const path = join(dir, entry.name);
        if (match(path)) found.push(path);
        findDirs(path, match, found);
    }
    return found;
}

/** RUNPATH / RPATH entries of an ELF file, from readelf -d. */
function runpath(file) {
    const out = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
    return [...out.matchAll(/\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]/g)].flatMap((m) => m[1].split(':'));
}

// ---- the consumer's environment -----------------------------------------------------------------------------

/** A bin folder with node, npm, npx, pnpm and a few plain tools: the whole PATH of the consumer commands. */
function makeBin(pnpmBin) {
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
function consumerEnv(bin, registry) {
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

function newProject(name) {
    const dir = join(tmp, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true })}\n`);
    for (const f of ['probe.mjs', 'probe.cjs', 'probe-core.cjs']) copyFileSync(join(here, f), join(dir, f));
    return dir;
}

// ---- the steps ----------------------------------------------------------------------------------------------

async function cachedInstall(name, spec, bin) {
    const dir = join(cacheRoot, name);
    const target = join(dir, 'node_modules', '.bin', bin);
    if (existsSync(target)) return realpathSync(target);
    mkdirSync(cacheRoot, { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    const staging = mkdtempSync(join(cacheRoot, `.${name}-`));
    await run('npm', ['install', '--prefix', staging, spec, '--ignore-scripts', '--no-audit', '--no-fund'], {
        timeoutMs: 10 * MINUTE,
    });
    // renamed in only when complete, so an interrupted install is not reused
    execFileSync('mv', ['-T', staging, dir]);
    return realpathSync(target);
}

async function pack() {
    const out = join(tmp, 'tarballs');
    const { stdout } = await run(
        process.execPath,
        [join(root, 'scripts', 'packages', 'pack.mjs'), '--addon', resolve(args.addon), '--out', out],
        { cwd: root, timeoutMs: 10 * MINUTE },
    );
    const packed = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1));
    report.tarballs = packed.map(({ name, bytes, files }) => ({ name, kb: Math.round(bytes / 1024), files }));
    const names = packed.map((p) => p.name).sort();
    assert(
        JSON.stringify(names) === JSON.stringify([...PACKAGES].sort()),
        `pack.mjs made ${names.join(', ')}; expected ${PACKAGES.join(', ')}`,
    );
    return packed;
}

function inspectTarballs(packed) {
    const list = (file) => execFileSync('tar', ['tzf', file], { encoding: 'utf8' }).trim().split('\n').sort();
    const platform = packed.find((p) => p.name === '@llavaguard/linux-x64');
    const files = list(platform.file);
    const expected = ['package/NOTICE', 'package/README.md', 'package/llavaguard.node', 'package/package.json'];
    assert(JSON.stringify(files) === JSON.stringify(expected), `@llavaguard/linux-x64 holds ${files.join(', ')}`);
    const main = packed.find((p) => p.name === 'llavaguard');
    const mainFiles = list(main.file);
    const manifest = JSON.parse(execFileSync('tar', ['xzf', main.file, '-O', 'package/package.json']));
    const lifecycle = ['preinstall', 'install', 'postinstall'].filter((s) => manifest.scripts?.[s]);
    assert(lifecycle.length === 0, `llavaguard has install scripts: ${lifecycle.join(', ')}`);
    // npm adds `node-gyp rebuild` as the install script of a package with a binding.gyp at its root
    assert(!mainFiles.includes('package/binding.gyp'), 'llavaguard ships a binding.gyp (npm would run node-gyp)');
    assert(!mainFiles.some((f) => f.endsWith('.node')), 'llavaguard itself ships a .node file');
    return `platform package: ${files.length} files; main: ${mainFiles.length} files, no install script`;
}

async function startRegistry(verdaccioBin) {
    const dir = join(tmp, 'registry');
    mkdirSync(dir);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const uplink = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
    const local = { access: '$all', publish: '$authenticated', unpublish: '$authenticated' };
    // JSON is YAML: our packages only from here (never proxied), everything else from the machine's registry.
    const config = {
        storage: join(dir, 'storage'),
        auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 10 } },
        uplinks: { upstream: { url: uplink, timeout: '120s', max_fails: 5 } },
        packages: {
            llavaguard: local,
            '@llavaguard/*': local,
            '**': { access: '$all', publish: '$authenticated', proxy: 'upstream' },
        },
        listen: `127.0.0.1:${port}`,
        max_body_size: '200mb',
        web: { enable: false },
        middlewares: { audit: { enabled: false } },
        log: { type: 'stdout', format: 'pretty', level: 'warn' },
    };
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const env = { ...process.env };
    // the uplink may sit behind a CA that npm knows of (its cafile) and Node does not
    const cafile = execFileSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).trim();
    if (cafile && cafile !== 'null' && existsSync(cafile)) env.NODE_EXTRA_CA_CERTS = cafile;
    const child = spawn(process.execPath, [verdaccioBin, '--config', configFile], {
        cwd: dir,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let log = '';
    child.stdout.on('data', (d) => {
        log += d;
    });
    child.stderr.on('data', (d) => {
        log += d;
    });
    const registry = { url, port, child, uplink, log: () => log };
    const deadline = Date.now() + 2 * MINUTE;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode})\n${tail(log)}`);
        try {
            const res = await fetch(`${url}-/ping`, { signal: AbortSignal.timeout(2000) });
            if (res.ok) return registry;
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`verdaccio did not answer ${url}-/ping within 2 min\n${tail(log)}`);
}

async function publish(registry, packed) {
    // a throwaway user of this registry only: the token goes to a temp userconfig
    const name = 'install-test';
    const res = await fetch(`${registry.url}-/user/org.couchdb.user:${name}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, password: `pw-${process.pid}-${Date.now()}`, type: 'user', roles: [] }),
        signal: AbortSignal.timeout(30_000),
    });
    const body = await res.json().catch(() => ({}));
    assert(res.ok && body.token, `adding a user to verdaccio: HTTP ${res.status} ${JSON.stringify(body)}`);
    const userconfig = join(tmp, 'publish.npmrc');
    writeFileSync(userconfig, `//127.0.0.1:${registry.port}/:_authToken=${body.token}\n`);
    const env = { PATH: process.env.PATH, HOME: join(tmp, 'publish-home') };
    for (const p of packed)
        await run(
            'npm',
            ['publish', p.file, '--registry', registry.url, '--userconfig', userconfig, '--access', 'public'],
            { cwd: tmp, env, timeoutMs: 3 * MINUTE },
        );
    for (const p of PACKAGES) {
        const meta = await fetch(`${registry.url}${p.replace('/', '%2f')}`, { signal: AbortSignal.timeout(30_000) });
        assert(meta.ok, `${p} is not served after publishing (HTTP ${meta.status})`);
    }
    return `${packed.length} packages at ${registry.url} (uplink ${registry.uplink})`;
}

function assertNoCompiler(bin) {
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
function assertCpuOnly(nodeModules) {
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

/** Demo: exit 0 and three verdicts; returns the model pair it made (LLAVAGUARD_CACHE) for the probes. */
async function demo(command, argv, cwd, env, side) {
    const { stdout, ms } = await run(command, argv, { cwd, env, timeoutMs: 15 * MINUTE });
    const verdicts = stdout.match(/^(UNSAFE|safe {2}) {2}\S.*\n\s+category:/gm) ?? [];
    assert(verdicts.length === 3, `expected 3 verdicts, got ${verdicts.length}\n${tail(stdout)}`);
    const model = stdout.match(/^\s*model:\s+(\S.*)$/m)?.[1];
    const mmproj = stdout.match(/^\s*mmproj:\s+(\S.*)$/m)?.[1];
    assert(model && mmproj, `the demo did not say which model it used\n${tail(stdout)}`);
    report[side].demoS = seconds(ms);
    return { pair: { model, mmproj }, detail: `3 verdicts in ${seconds(ms)} s` };
}

/** Runs a probe in the project; returns its results (one per thread). */
async function probe(file, project, env, options, cwd = project) {
    const { stdout, stderr } = await run('node', [join(project, file), JSON.stringify(options)], {
        cwd,
        env,
        timeoutMs: 10 * MINUTE,
    });
    const line = stdout.split('\n').find((l) => l.startsWith('PROBE '));
    assert(line, `${file} printed no result\n${tail(stdout + stderr)}`);
    const results = JSON.parse(line.slice(6));
    for (const r of results) {
        assert(r.llavaGuard === 'function' && r.load === 'function', `LlavaGuard is ${r.llavaGuard}`);
        assert(r.policyChars > 1000, `Policy.default('v1.2').render() gave ${r.policyChars} characters`);
        if (options.model)
            assert(
                r.assessment?.backend === 'cpu' && ['Safe', 'Unsafe'].includes(r.assessment.rating),
                `no CPU assessment: ${JSON.stringify(r.assessment)}`,
            );
    }
    const warning = stderr.match(/ExperimentalWarning.*$/m)?.[0];
    return { results, warning };
}

/** The addon and node-llama-cpp's libraries this process mapped, checked to come from the project's node_modules. */
function nativeFrom(result, project, expect) {
    const addon = result.mapped.filter((p) => p.endsWith('/llavaguard.node'));
    const llama = result.mapped.filter((p) => /\/libllama[^/]*\.so/.test(p));
    const cpu = result.mapped.filter((p) => /\/libggml-cpu[^/]*\.so/.test(p));
    assert(addon.length === 1, `llavaguard.node mapped ${addon.length} times: ${addon.join(', ')}`);
    assert(llama.length === 1 && cpu.length >= 1, `libllama / libggml-cpu not mapped: ${result.mapped.join(', ')}`);
    const nodeModules = `${project}/node_modules/`;
    for (const p of [...addon, ...llama, ...cpu])
        assert(p.startsWith(nodeModules), `${p} is not in ${nodeModules}: the addon reached outside the project`);
    assert(expect.addon.test(addon[0]), `llavaguard.node from ${addon[0]}`);
    assert(expect.llama.test(llama[0]), `libllama from ${llama[0]}`);
    const foreign = result.mapped.filter(
        (p) => p.startsWith(`${root}/`) || expect.notUnder?.some((d) => p.startsWith(d)),
    );
    assert(foreign.length === 0, `mapped from outside the installed project: ${foreign.join(', ')}`);
    return `${addon[0].slice(project.length + 1)} + ${llama[0].slice(project.length + 1)}`;
}

const NPM_LAYOUT = {
    addon: /\/node_modules\/@llavaguard\/linux-x64\/llavaguard\.node$/,
    llama: /\/node_modules\/@node-llama-cpp\/linux-x64\/bins\/linux-x64\/libllama[^/]*$/,
};
const PNPM_LAYOUT = {
    addon: /\/node_modules\/\.pnpm\/@llavaguard\+linux-x64@[^/]+\/node_modules\/@llavaguard\/linux-x64\/llavaguard\.node$/,
    llama: /\/node_modules\/\.pnpm\/@node-llama-cpp\+linux-x64@[^/]+\/node_modules\/@node-llama-cpp\/linux-x64\/bins\/linux-x64\/libllama[^/]*$/,
};

async function npmFlow(ctx) {
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
    await check(
        'npm: npm install llavaguard --ignore-scripts (cold caches)',
        async () => {
            const { ms } = await run('npm', installArgs, { cwd: project, env, timeoutMs: 15 * MINUTE });
            report.npm.installColdS = seconds(ms);
            return `${seconds(ms)} s`;
        },
        { fatal: true },
    );
    const nodeModules = join(project, 'node_modules');
    await check('npm: CPU-only node_modules (no CUDA, Vulkan, arm, armv7)', () => assertCpuOnly(nodeModules));
    await check(`npm: node_modules under ${mb(MAX_NODE_MODULES_BYTES)} MB`, () => {
        const bytes = diskBytes(nodeModules);
        report.npm.nodeModulesMB = mb(bytes);
        report.npm.largest = largestPackages(nodeModules);
        assert(bytes < MAX_NODE_MODULES_BYTES, `${mb(bytes)} MB`);
        return `${mb(bytes)} MB (largest: ${report.npm.largest.map((p) => `${p.name} ${p.mb}`).join(', ')})`;
    });
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
    await check(
        'npm: npx llavaguard demo',
        async () => {
            const r = await demo('npx', ['--no', 'llavaguard', 'demo'], project, env, 'npm');
            ctx.pair = r.pair;
            return r.detail;
        },
        { fatal: true },
    );
    await check('npm: ESM import { LlavaGuard, Policy } + native assess', async () => {
        const { results } = await probe('probe.mjs', project, env, ctx.pair);
        return nativeFrom(results[0], project, NPM_LAYOUT);
    });
    await check("npm: CommonJS require('llavaguard') + native assess", async () => {
        const { results, warning } = await probe('probe.cjs', project, env, ctx.pair);
        nativeFrom(results[0], project, NPM_LAYOUT);
        return `require(esm) works${warning ? ` (stderr: ${warning})` : ''}`;
    });
    await check(
        `npm: install again with a warm npm cache (the download left out) under ${MAX_INSTALL_S} s`,
        async () => {
            const warm = newProject('npm-consumer-warm');
            const { ms } = await run('npm', [...installArgs, '--prefer-offline'], {
                cwd: warm,
                env,
                timeoutMs: 15 * MINUTE,
            });
            report.npm.installWarmS = seconds(ms);
            report.npm.downloadS = seconds(Math.max(0, report.npm.installColdS * 1000 - ms));
            rmSync(warm, { recursive: true, force: true });
            assert(ms / 1000 < MAX_INSTALL_S, `${seconds(ms)} s`);
            return `${seconds(ms)} s (cold ${report.npm.installColdS} s, so ~${report.npm.downloadS} s downloading)`;
        },
    );
    ctx.npmProject = project;
}

async function pnpmFlow(ctx) {
    const { env, registry } = ctx;
    const project = newProject('pnpm-consumer');
    const addArgs = ['add', 'llavaguard', '--registry', registry.url, '--reporter', 'append-only'];
    await check(
        `pnpm ${PNPM_VERSION}: pnpm add llavaguard (cold store)`,
        async () => {
            const { ms } = await run('pnpm', addArgs, { cwd: project, env, timeoutMs: 15 * MINUTE });
            report.pnpm.installColdS = seconds(ms);
            return `${seconds(ms)} s`;
        },
        { fatal: true },
    );
    const nodeModules = join(project, 'node_modules');
    await check('pnpm: CPU-only node_modules (no CUDA, Vulkan, arm, armv7)', () => assertCpuOnly(nodeModules));
    await check(`pnpm: node_modules under ${mb(MAX_NODE_MODULES_BYTES)} MB`, () => {
        // the files are hard links into pnpm's store: node_modules counts them once; the store adds its index
        const bytes = diskBytes(nodeModules);
        const store = join(env.HOME, '.local', 'share', 'pnpm', 'store');
        report.pnpm.nodeModulesMB = mb(bytes);
        if (existsSync(store)) report.pnpm.withStoreMB = mb(diskBytes(nodeModules, store));
        report.pnpm.largest = largestPackages(nodeModules);
        assert(bytes < MAX_NODE_MODULES_BYTES, `${mb(bytes)} MB`);
        return `${mb(bytes)} MB; with the store ${report.pnpm.withStoreMB ?? '?'} MB on disk`;
    });
    await check(
        'pnpm: pnpm exec llavaguard demo',
        async () => {
            const r = await demo('pnpm', ['exec', 'llavaguard', 'demo'], project, env, 'pnpm');
            ctx.pair = r.pair;
            return r.detail;
        },
        { fatal: true },
    );
    await check(
        'pnpm: ESM import + native assess (addon finds libllama through RUNPATH across .pnpm links)',
        async () => {
            const { results } = await probe('probe.mjs', project, env, ctx.pair);
            return nativeFrom(results[0], project, PNPM_LAYOUT);
        },
    );
    await check(`pnpm: install again with a warm store under ${MAX_INSTALL_S} s`, async () => {
        const warm = newProject('pnpm-consumer-warm');
        const { ms } = await run('pnpm', [...addArgs, '--prefer-offline'], { cwd: warm, env, timeoutMs: 15 * MINUTE });
        report.pnpm.installWarmS = seconds(ms);
        report.pnpm.downloadS = seconds(Math.max(0, report.pnpm.installColdS * 1000 - ms));
        rmSync(warm, { recursive: true, force: true });
        assert(ms / 1000 < MAX_INSTALL_S, `${seconds(ms)} s`);
        return `${seconds(ms)} s (cold ${report.pnpm.installColdS} s)`;
    });
}

async function relocationFlow(ctx) {
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
    for (const f of elves) {
        const out = execFileSync('readelf', ['-d', f], { encoding: 'utf8' });
        for (const m of out.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)) names.add(m[1]);
    }
    for (const name of names) writeFileSync(join(dir, name), 'not a library\n');
    return { dir, count: names.size };
}

/** Absolute paths of the build tree left in the addon (__FILE__ of assertions): reported, not fatal. */
function buildPathStrings(file) {
    const text = readFileSync(file, 'latin1');
    const found = new Set();
    for (const m of text.matchAll(/\/(?:[\w.+-]+\/)+[\w.+-]+\.(?:c|cc|cpp|h|hpp)(?=\0)/g)) found.add(m[0]);
    return [...found];
}

// ---- main ---------------------------------------------------------------------------------------------------

let registry;
async function cleanup() {
    await Promise.all(
        [...children].map(async (child) => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = new Promise((r) => child.once('exit', () => r(true)));
            killGroup(child, 'SIGTERM');
            if (!(await Promise.race([exited, new Promise((r) => setTimeout(() => r(false), 5000))])))
                killGroup(child, 'SIGKILL');
        }),
    );
    children.clear();
    if (args.keep) console.log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'])
    process.on(signal, () => {
        console.log(`install-test: ${signal}, cleaning up`);
        cleanup().finally(() => process.exit(130));
    });

async function main() {
    const ctx = {};
    try {
        let packed;
        await check(
            'pack: the four packages as published (scripts/packages/pack.mjs)',
            async () => {
                packed = await pack();
                return packed.map((t) => `${t.name} ${Math.round(t.bytes / 1024)} KiB`).join(', ');
            },
            { fatal: true },
        );
        await check('tarball contents: platform package is the addon only, main package has no install script', () =>
            inspectTarballs(packed),
        );
        let verdaccioBin;
        let pnpmBin;
        await check(
            `tools: verdaccio ${VERDACCIO_VERSION} and pnpm ${PNPM_VERSION} (cached in ${cacheRoot})`,
            async () => {
                verdaccioBin = await cachedInstall(
                    `verdaccio-${VERDACCIO_VERSION}`,
                    `verdaccio@${VERDACCIO_VERSION}`,
                    'verdaccio',
                );
                pnpmBin = await cachedInstall(`pnpm-${PNPM_VERSION}`, `pnpm@${PNPM_VERSION}`, 'pnpm');
            },
            { fatal: true },
        );
        await check(
            'registry: verdaccio on loopback',
            async () => {
                registry = await startRegistry(verdaccioBin);
                return registry.url;
            },
            { fatal: true },
        );
        await check('registry: publish the tarballs', () => publish(registry, packed), { fatal: true });
        const bin = makeBin(pnpmBin);
        await check('consumer PATH has no C++ compiler or build tool', () => assertNoCompiler(bin), { fatal: true });
        Object.assign(ctx, consumerEnv(bin, registry.url), { registry });
        mkdirSync(ctx.env.TMPDIR);
        try {
            await npmFlow(ctx);
            try {
                await relocationFlow(ctx);
            } catch (error) {
                if (!(error instanceof Skip)) throw error;
            }
        } catch (error) {
            if (!(error instanceof Skip)) throw error;
        }
        try {
            await pnpmFlow(ctx);
        } catch (error) {
            if (!(error instanceof Skip)) throw error;
        }
    } catch (error) {
        if (!(error instanceof Skip)) {
            checks.push({ name: 'unexpected error', ok: false, detail: error.stack });
            console.log(`FAIL  unexpected error\n${error.stack}`);
        }
        if (registry) console.log(`verdaccio log (tail):\n${tail(registry.log())}`);
    } finally {
        await cleanup();
    }
}

await main();
const failed = checks.filter((c) => !c.ok).length;
report.checks = checks;
report.passed = checks.length - failed;
report.failed = failed;
console.log('\nfigures:');
for (const side of ['npm', 'pnpm']) {
    const r = report[side];
    console.log(
        `  ${side}: install ${r.installColdS ?? '?'} s cold, ${r.installWarmS ?? '?'} s warm; node_modules ${r.nodeModulesMB ?? '?'} MB${r.withStoreMB ? ` (${r.withStoreMB} MB with the store)` : ''}; demo ${r.demoS ?? '?'} s`,
    );
}
for (const t of report.tarballs) console.log(`  tarball ${t.name}: ${t.kb} KiB, ${t.files} files`);
if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
console.log(`install-test: ${report.passed} passed, ${failed} failed`);
// exit now: fetch's keep-alive sockets to the stopped registry need not hold the process
process.exit(failed > 0 ? 1 : 0);
