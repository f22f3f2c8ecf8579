#!/usr/bin/env node
// node scripts/reference/convert.mjs HF_DIR OUT_DIR [f32|f16|q8_0] [--vocab-only]
// Runs the TypeScript converter from the build in .cache/cvbuild (scripts/reference/tsconfig.json).
import { convertHfModel } from '../../.cache/cvbuild/gguf/convert/index.js';

const [dir, outDir, type = 'f16', flag] = process.argv.slice(2);
const t0 = Date.now();
const r = await convertHfModel({
    dir,
    outDir,
    type,
    vocabOnly: flag === '--vocab-only',
    log: (s) => console.error(`  ${s}`),
});
console.log(
    `  converted ${dir} -> ${r.model}${r.mmproj ? ` + ${r.mmproj}` : ''} (${type}, ${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${Date.now() - t0} ms)`,
);
