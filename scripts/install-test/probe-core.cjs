// What the consumer-install probes do with llavaguard, whichever module system loaded it (probe.mjs: ESM and a
// worker_thread; probe.cjs: require). Copied into the consumer project, so it needs nothing but Node.
const { readFileSync } = require('node:fs');
const { threadId } = require('node:worker_threads');

// A generated picture, small enough for a quick assessment on the random-weight demo model.
const IMAGE = Buffer.from(
    '<svg width="96" height="64"><rect width="96" height="64" fill="#36c"/><circle cx="48" cy="32" r="20" fill="#fc2"/></svg>',
);

/** The native files this process has mapped: the kernel names them by their real path. */
function mappedNativeFiles() {
    const files = new Set();
    for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
        const path = line.slice(line.indexOf('/'));
        if (line.includes('/') && /\.node$|\.so(\.|$)/.test(path)) files.add(path.replace(/ \(deleted\)$/, ''));
    }
    return [...files];
}

/** Renders the default policy; with a model pair, loads it on the CPU and assesses IMAGE (the native proof). */
async function probe({ LlavaGuard, Policy }, { model, mmproj } = {}) {
    const out = {
        threadId,
        llavaGuard: typeof LlavaGuard,
        load: typeof LlavaGuard?.load,
        policyChars: Policy.default('v1.2').render().length,
    };
    if (model) {
        const guard = await LlavaGuard.load({ model, mmproj, gpu: 'cpu', imagePipeline: 'fast' });
        try {
            const a = await guard.assess(IMAGE, { seed: 0, rationale: false });
            out.assessment = { rating: a.rating, category: a.category, backend: a.backend, device: a.device };
        } finally {
            await guard.close();
        }
    }
    out.mapped = mappedNativeFiles();
    return out;
}

module.exports = { probe };
