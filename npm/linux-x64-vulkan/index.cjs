// The ggml backend library that llavaguard loads for vulkan. It comes from @node-llama-cpp/linux-x64-vulkan (the same
// llama.cpp tree as llavaguard's addon); only this package can resolve that dependency under pnpm's strict layout.
const { dirname, join } = require('node:path');

const pkg = '@node-llama-cpp/linux-x64-vulkan';
const folder = join(dirname(require.resolve(pkg)), '..', 'bins', 'linux-x64-vulkan');

module.exports = {
    backend: 'vulkan',
    library: join(folder, 'libggml-vulkan.so'),
    from: pkg,
};
