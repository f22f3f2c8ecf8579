// The packages as published and the local registry that serves them: pack.mjs's tarballs and their contents,
// verdaccio on loopback (the tools installed once into a cache), and publishing as a throwaway user.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { assert, run, spawnChild } from './harness.mjs';
import { MINUTE, PACKAGES, args, cacheRoot, report, root, tail, tmp } from './settings.mjs';

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

/** An npm package's bin, installed once into the cache folder (verdaccio, pnpm). */
export async function cachedInstall(name, spec, bin) {
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

export async function pack() {
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

export function inspectTarballs(packed) {
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

export async function startRegistry(verdaccioBin) {
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
    const child = spawnChild(process.execPath, [verdaccioBin, '--config', configFile], {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
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

export async function publish(registry, packed) {
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
