import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './AddonTypes.js';
import { chooseCpuVariant, type CpuVariantChoice, listCpuVariants } from './cpu-variant.js';
import { currentPlatform, type Platform, platformPackageName } from './platform.js';

/** Where an addon was found, and how it was built. */
export interface AddonLocation {
    /** `override`: LLAVAGUARD_ADDON; `local-build`: build/Release of this package (`npx llavaguard build`, a
     * checkout); `platform-package`: the prebuilt `@llavaguard/<platform>` package. */
    kind: 'override' | 'local-build' | 'platform-package';
    path: string;
}

export interface LoadedAddon {
    addon: NativeAddon;
    location: AddonLocation;
    platform: Platform;
    /** The CPU variant chosen for a prebuilt ggml; null where the CPU code is compiled into the addon. */
    cpu: CpuVariantChoice | null;
}

/** No usable native addon: says the platform, every place looked at and why each failed, and the way out. */
export class NativeAddonError extends Error {
    override readonly name = 'NativeAddonError';
    constructor(
        message: string,
        readonly attempts: readonly { location: string; problem: string }[],
    ) {
        super(message);
    }
}

let loaded: LoadedAddon | undefined;

/** The package root (the folder of llavaguard's package.json), from lib/bindings or dist/lib/bindings. */
export function packageRoot(): string {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 6; i++) {
        const pkg = join(dir, 'package.json');
        if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'llavaguard') return dir;
        dir = dirname(dir);
    }
    throw new Error('llavaguard: cannot find the package root (the folder with its package.json)');
}

function packageVersion(root: string): string {
    return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
}

/** The places an addon may be, in the order they are tried. */
export function addonCandidates(
    root: string,
    platform: Platform,
    env: NodeJS.ProcessEnv = process.env,
): (AddonLocation | { problem: string; location: string })[] {
    const out: (AddonLocation | { problem: string; location: string })[] = [];
    if (env.LLAVAGUARD_ADDON) return [{ kind: 'override', path: env.LLAVAGUARD_ADDON }];
    const local = join(root, 'build', 'Release', 'llavaguard.node');
    if (existsSync(local)) out.push({ kind: 'local-build', path: local });
    const name = platformPackageName(platform);
    const require = createRequire(join(root, 'package.json'));
    try {
        const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8'));
        const wanted = packageVersion(root);
        if (pkg.version !== wanted) {
            out.push({ location: `${name}@${pkg.version}`, problem: `llavaguard@${wanted} needs version ${wanted}` });
        } else {
            out.push({ kind: 'platform-package', path: require.resolve(`${name}/llavaguard.node`) });
        }
    } catch {
        out.push({
            location: name,
            problem: 'not installed (npm installs it as an optional dependency where it exists)',
        });
    }
    return out;
}

export function describeFailure(platform: Platform, attempts: { location: string; problem: string }[]): string {
    const lines = attempts.map((a) => `  - ${a.location}: ${a.problem}`);
    return [
        `no native addon for ${platform.id}${platform.libc ? ` (${platform.libc})` : ''}, Node ${process.versions.node}.`,
        'Looked for:',
        ...lines,
        'Prebuilt packages exist for linux-x64 (glibc). Elsewhere, or after installing with --omit=optional, build',
        'from source (needs git, cmake and a C++17 compiler): npx llavaguard build',
    ].join('\n');
}

/** The CPU variants of a prebuilt ggml: scored by the libraries themselves, chosen without AMX unless asked. */
function initCpuBackend(addon: NativeAddon): CpuVariantChoice {
    const folder = addon.llamaLibraryFolder();
    if (!folder) throw new Error('cannot tell which folder libllama was loaded from');
    const variants = listCpuVariants(folder).map((v) => {
        try {
            return { ...v, score: addon.scoreBackendLibrary(v.path) };
        } catch (error) {
            return { ...v, score: 0, skipped: (error as Error).message };
        }
    });
    if (variants.length === 0) throw new Error(`no ggml CPU variant (libggml-cpu-*) beside libllama in ${folder}`);
    const choice = chooseCpuVariant(variants, {
        allowAmx: process.env.LLAVAGUARD_CPU_AMX === '1',
        force: process.env.LLAVAGUARD_CPU_VARIANT || undefined,
    });
    addon.loadCpuBackendLibrary(choice.chosen.path);
    return choice;
}

/** Loads the native addon once: the first candidate that loads wins; its ggml backends are initialised. */
export function loadNativeAddon(): LoadedAddon {
    if (loaded) return loaded;
    const platform = currentPlatform();
    const root = packageRoot();
    const attempts: { location: string; problem: string }[] = [];
    const require = createRequire(import.meta.url);
    for (const c of addonCandidates(root, platform)) {
        if (!('kind' in c)) {
            attempts.push(c);
            continue;
        }
        let addon: NativeAddon;
        try {
            addon = require(c.path) as NativeAddon;
        } catch (error) {
            attempts.push({ location: c.path, problem: `does not load: ${(error as Error).message.split('\n')[0]}` });
            continue;
        }
        try {
            const dynamic = addon.backends().length === 0;
            const cpu = dynamic ? initCpuBackend(addon) : null;
            addon.initBackends();
            loaded = { addon, location: c, platform, cpu };
            return loaded;
        } catch (error) {
            attempts.push({
                location: c.path,
                problem: `loaded, but its backends did not: ${(error as Error).message}`,
            });
        }
    }
    throw new NativeAddonError(describeFailure(platform, attempts), attempts);
}

/** The native addon (loaded and initialised once). */
export function loadAddon(): NativeAddon {
    return loadNativeAddon().addon;
}

/** @deprecated the path of the addon that loadAddon() uses; see loadNativeAddon().location. */
export function addonPath(): string {
    return loadNativeAddon().location.path;
}
