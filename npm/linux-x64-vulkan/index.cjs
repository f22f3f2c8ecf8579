// The ggml backend library that llavaguard loads for vulkan. It comes from @node-llama-cpp/linux-x64-vulkan (the same
// llama.cpp tree as llavaguard's addon); only this package can resolve that dependency under pnpm's strict layout.
const { dirname, join } = require('node:path');

const pkg = '@node-llama-cpp/linux-x64-vulkan';
const folder = join(dirname(require.resolve(pkg)), '..', 'bins', 'linux-x64-vulkan');

module.exports = {
    backend: 'vulkan',
    library: join(folder, 'libggml-vulkan.so'),
    from: pkg,
    // Opened by llavaguard from the system's search path before the backend (whose own path includes the current
    // folder), so a file of that name in the current folder is never taken.
    systemLibraries: ['libvulkan.so.1'],
};
