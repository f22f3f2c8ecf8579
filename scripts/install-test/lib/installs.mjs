// The steps npm and pnpm share: a timed install into an empty project (cold, then again with a warm cache or
// store: the install without the download) and the size of what it left.
import { rmSync } from 'node:fs';
import { newProject } from './consumer.mjs';
import { diskBytes, largestPackages } from './files.mjs';
import { assert, check, run } from './harness.mjs';
import { MAX_INSTALL_S, MAX_NODE_MODULES_BYTES, MINUTE, mb, report, seconds } from './settings.mjs';

/** The first install, with cold caches; fatal, since every later step needs it. */
export function coldInstall(side, name, command, argv, { cwd, env }) {
    return check(
        name,
        async () => {
            const { ms } = await run(command, argv, { cwd, env, timeoutMs: 15 * MINUTE });
            report[side].installColdS = seconds(ms);
            return `${seconds(ms)} s`;
        },
        { fatal: true },
    );
}

/** The same install into another empty project, offline where it can be; under MAX_INSTALL_S. */
export function warmInstall(side, name, command, argv, env) {
    return check(name, async () => {
        const warm = newProject(`${side}-consumer-warm`);
        const { ms } = await run(command, [...argv, '--prefer-offline'], { cwd: warm, env, timeoutMs: 15 * MINUTE });
        const r = report[side];
        r.installWarmS = seconds(ms);
        r.downloadS = seconds(Math.max(0, r.installColdS * 1000 - ms));
        rmSync(warm, { recursive: true, force: true });
        assert(ms / 1000 < MAX_INSTALL_S, `${seconds(ms)} s`);
        return `${seconds(ms)} s (cold ${r.installColdS} s, so ~${r.downloadS} s downloading)`;
    });
}

/** node_modules under MAX_NODE_MODULES_BYTES; with pnpm's store (hard links, counted once) reported beside. */
export function sizeCheck(side, nodeModules, store) {
    return check(`${side}: node_modules under ${mb(MAX_NODE_MODULES_BYTES)} MB`, () => {
        const r = report[side];
        const bytes = diskBytes(nodeModules);
        r.nodeModulesMB = mb(bytes);
        if (store) r.withStoreMB = mb(diskBytes(nodeModules, store));
        r.largest = largestPackages(nodeModules);
        assert(bytes < MAX_NODE_MODULES_BYTES, `${mb(bytes)} MB`);
        const largest = `largest: ${r.largest.map((p) => `${p.name} ${p.mb}`).join(', ')}`;
        return `${mb(bytes)} MB (${store ? `with the store ${r.withStoreMB} MB on disk; ` : ''}${largest})`;
    });
}
