// CommonJS probe, run inside a consumer project: require() of the ESM package (Node >= 20.19 without a flag, as
// long as its module graph has no top-level await). Prints one line `PROBE <json>`.
const { LlavaGuard, Policy } = require('llavaguard');
const { probe } = require('./probe-core.cjs');

probe({ LlavaGuard, Policy }, JSON.parse(process.argv[2] ?? '{}')).then(
    (result) => console.log(`PROBE ${JSON.stringify([result])}`),
    (error) => {
        console.error(error);
        process.exitCode = 1;
    },
);
