import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { NativeAddon, NativeDevice } from './AddonTypes.js';
import { type LoadedAddon, loadNativeAddon, packageRoot } from './loadAddon.js';

export type GpuBackend = 'cuda' | 'vulkan' | 'metal';
/** What a caller asks for: `auto` takes the best backend that is installed and whose driver loads. */
export type GpuRequest = 'auto' | 'cpu' | GpuBackend;
export const GPU_REQUESTS: readonly GpuRequest[] = ['auto', 'cpu', 'cuda', 'vulkan', 'metal'];

/** Where a model runs, and why there. */
export interface GpuSelection {
    backend: 'cpu' | GpuBackend;
    /** ggml device names given to the model ([] for the CPU). */
    devices: string[];
    /** The device that runs it, as its driver names it (the CPU's model name on the CPU). */
    device: string;
    /** Why this backend: what was tried and what failed. */
    reason: string;
}

/** Backends in the order `auto` tries them: the fastest where each exists. */
function autoOrder(os: NodeJS.Platform): readonly GpuBackend[] {
    return os === 'darwin' ? ['metal'] : ['cuda', 'vulkan'];
}

/** A GPU that a backend library opened (software devices such as llvmpipe are listed as GPUs once named). */
function gpuDevices(devices: readonly NativeDevice[]): NativeDevice[] {
    return devices.filter((d) => d.type === 'gpu' || d.type === 'igpu');
}

function cpuDevice(addon: NativeAddon): string {
    return (
        addon
            .backends()
            .flatMap((b) => b.devices)
            .find((d) => d.type === 'cpu')?.description ?? 'CPU'
    );
}

const attempts = new Map<GpuBackend, Promise<{ devices: NativeDevice[] } | { problem: string }>>();

/** A GPU backend library, and the driver libraries it needs from the system. */
interface GpuPackage {
    library: string;
    systemLibraries: readonly string[];
}

/** The library of a GPU package, resolved by that package (pnpm lets only it see its own dependency). */
function gpuPackage(native: LoadedAddon, backend: GpuBackend): GpuPackage {
    if (backend === 'metal') {
        // Untested: node-llama-cpp's macOS package keeps its Metal backend beside libllama.
        const folder = native.addon.llamaLibraryFolder();
        if (native.platform.os !== 'darwin' || !folder) throw new Error('Metal runs on macOS only');
        return { library: join(folder, 'libggml-metal.so'), systemLibraries: [] };
    }
    const name = `@llavaguard/${native.platform.id}-${backend}`;
    const require = createRequire(join(packageRoot(), 'package.json'));
    try {
        const pkg = require(name);
        return { library: pkg.library, systemLibraries: pkg.systemLibraries ?? [] };
    } catch (error) {
        const e = error as NodeJS.ErrnoException;
        // Only the package itself missing means "not installed"; its own dependency missing is a broken install.
        if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${name}'`)) {
            throw new Error(`${name} is not installed (npm install ${name})`);
        }
        throw new Error(`${name} is installed but does not load: ${e.message.split('\n')[0]}`);
    }
}

/** Loads one GPU backend library once per process; the outcome (devices or the problem) is remembered. */
function tryBackend(
    native: LoadedAddon,
    backend: GpuBackend,
): Promise<{ devices: NativeDevice[] } | { problem: string }> {
    let attempt = attempts.get(backend);
    if (!attempt) {
        attempt = (async () => {
            try {
                const pkg = gpuPackage(native, backend);
                // The drivers first, from the system: the backends' own search path includes the current folder.
                for (const name of pkg.systemLibraries) native.addon.loadSystemLibrary(name);
                const reg = await native.addon.loadBackendLibrary(pkg.library);
                const devices = gpuDevices(reg.devices);
                if (devices.length > 0) return { devices };
                const hint =
                    backend === 'vulkan'
                        ? ' (ggml skips software devices such as llvmpipe unless GGML_VK_VISIBLE_DEVICES names them)'
                        : '';
                return { problem: `${reg.name} loaded but found no GPU${hint}` };
            } catch (error) {
                return { problem: (error as Error).message };
            }
        })();
        attempts.set(backend, attempt);
    }
    return attempt;
}

/** The backend compiled into an addon built from source (`npx llavaguard build --gpu X`), if any. */
function staticSelection(addon: NativeAddon, request: GpuRequest): GpuSelection {
    const built = addon.systemInfo().backend as 'cpu' | GpuBackend;
    const gpus = gpuDevices(addon.systemInfo().devices);
    const cpu = { backend: 'cpu' as const, devices: [], device: cpuDevice(addon) };
    if (request === 'cpu') return { ...cpu, reason: 'asked for the CPU' };
    if (built === 'cpu' || gpus.length === 0) {
        const why = built === 'cpu' ? 'this addon was built without a GPU backend' : `no ${built} device was found`;
        if (request === 'auto') return { ...cpu, reason: why };
        throw new Error(`gpu '${request}' is not available: ${why} (npx llavaguard build --gpu ${request})`);
    }
    if (request !== 'auto' && request !== built) {
        throw new Error(`gpu '${request}' is not available: this addon was built with ${built}`);
    }
    return { backend: built, devices: [gpus[0].name], device: gpus[0].description, reason: `built with ${built}` };
}

/**
 * Chooses where a model runs. `auto`: the first GPU backend (CUDA, Metal, Vulkan) whose package is installed and
 * that opens a GPU, else the CPU with the reasons; an explicit backend that cannot run is an error.
 */
export async function selectGpu(request: GpuRequest = 'auto'): Promise<GpuSelection> {
    if (!GPU_REQUESTS.includes(request)) {
        throw new TypeError(`option 'gpu' must be one of ${GPU_REQUESTS.join(', ')} (got '${String(request)}')`);
    }
    const native = loadNativeAddon();
    if (!native.addon.systemInfo().dynamicBackends) return staticSelection(native.addon, request);
    const cpu = { backend: 'cpu' as const, devices: [], device: cpuDevice(native.addon) };
    if (request === 'cpu') return { ...cpu, reason: 'asked for the CPU' };
    const order = request === 'auto' ? autoOrder(native.platform.os) : [request];
    const problems: string[] = [];
    for (const backend of order) {
        const outcome = await tryBackend(native, backend);
        if ('devices' in outcome) {
            const dev = outcome.devices[0];
            const skipped = problems.length ? `; before it: ${problems.join('; ')}` : '';
            return {
                backend,
                devices: [dev.name],
                device: dev.description,
                reason: `${backend} opened ${dev.name}${skipped}`,
            };
        }
        problems.push(`${backend}: ${outcome.problem}`);
    }
    if (request !== 'auto') throw new Error(`gpu '${request}' is not available: ${problems.join('; ')}`);
    return { ...cpu, reason: `no GPU backend could run: ${problems.join('; ')}` };
}
