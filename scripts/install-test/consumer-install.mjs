#!/usr/bin/env node
// The consumer install, tested for real (issue 16, items 5 and 7): packs the packages as published, serves them
// from a local registry on loopback (verdaccio; everything else proxied to this machine's npm registry), and
// installs them as a user would, with npm and with pnpm 10, in empty projects, with install scripts off and no
// C++ compiler on PATH. Then runs the demo, imports the library from ESM and CommonJS, moves the npm project
// elsewhere and loads it there in the main thread and in a worker_thread. See README.md beside this file; the
// steps live in lib/.
//   node scripts/install-test/consumer-install.mjs [--addon build/Release/llavaguard.node] [--json FILE] [--keep]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { assertNoCompiler, consumerEnv, makeBin } from './lib/consumer.mjs';
import { npmFlow, pnpmFlow, relocationFlow } from './lib/flows.mjs';
import { Skip, check, checks, stopChildren, unlessSkipped } from './lib/harness.mjs';
import { cachedInstall, inspectTarballs, pack, publish, startRegistry } from './lib/registry.mjs';
import { PNPM_VERSION, VERDACCIO_VERSION, args, cacheRoot, report, tail, tmp } from './lib/settings.mjs';

let registry;
async function cleanup() {
    await stopChildren();
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
        await unlessSkipped(async () => {
            await npmFlow(ctx);
            await unlessSkipped(() => relocationFlow(ctx));
        });
        await unlessSkipped(() => pnpmFlow(ctx));
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
