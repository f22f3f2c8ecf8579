// The @node-llama-cpp/<name> package whose CPU libraries this platform uses (null where node-llama-cpp has none).
// Its GPU packages (-vulkan, -cuda) carry the same CPU libraries plus one backend library each.
export function prebuiltPackage(platform = process.platform, arch = process.arch) {
    const names = {
        'linux-x64': 'linux-x64',
        'linux-arm64': 'linux-arm64',
        'darwin-arm64': 'mac-arm64-metal',
        'darwin-x64': 'mac-x64',
        'win32-x64': 'win-x64',
        'win32-arm64': 'win-arm64',
    };
    return names[`${platform}-${arch}`] ?? null;
}
