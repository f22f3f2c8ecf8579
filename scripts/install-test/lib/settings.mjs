// The install test's command line, its limits, the temp folder of this run and the report it fills in: shared by
// consumer-install.mjs and every module beside this one.
import { mkdtempSync, realpathSync } from 'node:fs';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** scripts/install-test, where the probes live. */
export const here = join(dirname(fileURLToPath(import.meta.url)), '..');
export const root = join(here, '..', '..');
export const { values: args } = parseArgs({
    options: {
        addon: { type: 'string', default: join(root, 'build', 'Release', 'llavaguard.node') },
        json: { type: 'string' },
        keep: { type: 'boolean', default: false },
        'pnpm-version': { type: 'string', default: '10.34.9' },
        'max-install-s': { type: 'string', default: '60' },
        'max-node-modules-mb': { type: 'string', default: '100' },
    },
});
export const VERDACCIO_VERSION = '6.8.0'; // 6.10 needs Node 22
export const PNPM_VERSION = args['pnpm-version'];
export const MAX_INSTALL_S = Number(args['max-install-s']);
export const MAX_NODE_MODULES_BYTES = Number(args['max-node-modules-mb']) * 1e6;
export const COMPILERS = ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'make', 'cmake', 'ninja'];
// What a consumer's PATH needs besides node (found by leaving each out): npx spawns `sh` from PATH, and pnpm's
// .bin shims are sh scripts calling dirname, sed and uname.
export const PLAIN_TOOLS = ['sh', 'dirname', 'sed', 'uname'];
export const PACKAGES = [
    'llavaguard',
    '@llavaguard/linux-x64',
    '@llavaguard/linux-x64-vulkan',
    '@llavaguard/linux-x64-cuda',
];
export const MINUTE = 60_000;

export const cacheRoot = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'llavaguard-install-test');
export const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'llavaguard-install-test-')));
export const report = { node: process.versions.node, cores: availableParallelism(), tarballs: [], npm: {}, pnpm: {} };

export const seconds = (ms) => Math.round(ms / 100) / 10;
export const mb = (bytes) => Math.round(bytes / 1e5) / 10;
export const tail = (text, lines = 25) => text.trim().split('\n').slice(-lines).join('\n');
