// Writes a shape-faithful random-weight model pair (gguf/synthetic/shapes.ts).
//
//   TS_NODE_TRANSPILE_ONLY=1 node --import @tapjs/typescript/import scripts/bench/make-shaped.ts \
//     [--shapes llavaguard-v1.2-0.5b|llavaguard-v1.2-7b|llavaguard-v1.1-7b] [--weight-type q8_0|f16|bf16]
//     [--mmproj-weight-type f16|q8_0] [--seed N] [--out DIR]
//
// Default: llavaguard-v1.2-0.5b, Q8_0 text model, F16 mmproj, into /tmp/llavaguard-bench-models/<shapes>-<type>
// (the folder scripts/bench/overhead.ts uses). The 7B shapes are Q8_0 only: llavaguard-v1.2-7b (OneVision,
// Qwen2-7B) about 8.3 GiB, llavaguard-v1.1-7b (LLaVA-1.5) about 7.3 GiB.

import path from 'node:path';
import { parseArgs } from 'node:util';

import {
    makeShapedModel,
    planFileSize,
    planShapedModel,
    type ShapedModelId,
    type ShapedWeightType,
} from '../../gguf/synthetic/shapes.js';

const { values } = parseArgs({
    options: {
        shapes: { type: 'string', default: 'llavaguard-v1.2-0.5b' },
        'weight-type': { type: 'string', default: 'q8_0' },
        'mmproj-weight-type': { type: 'string', default: 'f16' },
        seed: { type: 'string', default: '0' },
        out: { type: 'string' },
    },
});

const shapes = values.shapes as ShapedModelId;
const weightType = values['weight-type'] as ShapedWeightType;
const mmprojWeightType = values['mmproj-weight-type'] as ShapedWeightType;
const seed = Number(values.seed);
const outDir = values.out ?? path.join('/tmp/llavaguard-bench-models', `${shapes}-${weightType}`);

const plan = planShapedModel({ shapes, weightType, mmprojWeightType, seed });
const total = (await planFileSize(plan.model)) + (await planFileSize(plan.mmproj));
process.stderr.write(
    `writing ${shapes} (${weightType} text, ${mmprojWeightType} mmproj, ${(total / 2 ** 20).toFixed(0)} MiB) to ${outDir}\n`,
);
let last = 0;
const r = await makeShapedModel({
    shapes,
    weightType,
    mmprojWeightType,
    seed,
    outDir,
    onProgress: (p) => {
        const now = performance.now();
        if (now - last > 10_000) {
            last = now;
            process.stderr.write(`  ${p.file} ${((100 * p.bytesWritten) / p.totalBytes).toFixed(0)}% (${p.tensor})\n`);
        }
    },
});
process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
