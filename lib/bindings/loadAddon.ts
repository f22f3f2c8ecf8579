import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './AddonTypes.js';

let cached: NativeAddon | undefined;

/** Walks up from this file (lib/bindings or dist/lib/bindings) to the package root that holds build/. */
function findPackageRoot(): string {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 5; i++) {
        if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
        dir = dirname(dir);
    }
    throw new Error('llavaguard: cannot find the package root (with native/ and build/)');
}

export function addonPath(): string {
    if (process.env.LLAVAGUARD_ADDON) return process.env.LLAVAGUARD_ADDON;
    return join(findPackageRoot(), 'build', 'Release', 'llavaguard.node');
}

/** Loads the native addon once. */
export function loadAddon(): NativeAddon {
    if (cached) return cached;
    const path = addonPath();
    if (!existsSync(path)) {
        throw new Error(`llavaguard: the native addon is not built (${path} is missing): run \`npm run build:native\``);
    }
    cached = createRequire(import.meta.url)(path) as NativeAddon;
    return cached;
}
