// The two ways the addon gets ggml, side by side on the shape-faithful 0.5B pair: the prebuilt route
// (node-llama-cpp's shared libraries, ggml's CPU variant chosen at run time, what `npm install llavaguard` gives)
// and a from-source `-march=native` build (what `npx llavaguard build --native` gives). One full verdict each, in
// fresh processes, alternating A B A B ..., through the library (scripts/bench/run-guard.ts); encode, prefill
// and decode reported apart, with the ratio prebuilt / native of each.
//
//   npm run bench:routes -- --prebuilt ADDON --native ADDON [--runs 3] [--threads 2] [--json FILE]
//
// Both addons must exist: e.g. `npm run build:native` (prebuilt, build/) and
// `LLAVAGUARD_NATIVE=1 LLAVAGUARD_BUILD_DIR=build-native npm run build:native`.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeShapedModel } from '../../gguf/synthetic/shapes.js';
import { f2, log, mdTable, median, mustRunChild } from './common.js';
import { writePhotoLikePng } from './image.js';
import type { GuardSpec } from './run-guard.js';

const { values: opt } = parseArgs({
    options: {
        prebuilt: { type: 'string' },
        native: { type: 'string' },
        models: { type: 'string', default: '/tmp/llavaguard-bench-models' },
        runs: { type: 'string', default: '3' },
        threads: { type: 'string', default: '2' },
        json: { type: 'string' },
    },
});
if (!opt.prebuilt || !opt.native) throw new Error('--prebuilt ADDON and --native ADDON are required');
const addons = { prebuilt: path.resolve(opt.prebuilt), native: path.resolve(opt.native) };
for (const a of Object.values(addons)) if (!existsSync(a)) throw new Error(`${a} does not exist`);

const dir = path.join(opt.models!, 'llavaguard-v1.2-0.5b-q8_0');
const pair = { model: path.join(dir, 'model.gguf'), mmproj: path.join(dir, 'mmproj.gguf') };
if (!existsSync(pair.model) || !existsSync(pair.mmproj)) {
    log(`writing the shape-faithful 0.5B pair (Q8_0 text, F16 mmproj) to ${dir} ...`);
    await makeShapedModel({
        shapes: 'llavaguard-v1.2-0.5b',
        outDir: dir,
        weightType: 'q8_0',
        mmprojWeightType: 'f16',
        seed: 0,
    });
}
const image = await writePhotoLikePng(path.join(opt.models!, 'bench-photo-384.png'));

interface Call {
    imageMs: number;
    promptMs: number;
    afterPromptMs: number;
    wallMs: number;
    rating: string;
    category: string | null;
}
const spec: GuardSpec = {
    mode: 'full',
    ...pair,
    images: [image],
    threads: Number(opt.threads),
    temperature: 0,
    topK: 40,
    topP: 0.95,
    seed: 42,
    maxTokens: 512,
    maxRationaleChars: 160,
    // One tile, as the other benchmarks; flash attention off on both, so the routes differ in ggml alone.
    imagePipeline: 'llama.cpp',
    flashAttention: 'off',
};
const results: Record<keyof typeof addons, Call[]> = { prebuilt: [], native: [] };
for (let i = 0; i < Number(opt.runs); i++) {
    for (const route of ['prebuilt', 'native'] as const) {
        process.env.LLAVAGUARD_ADDON = addons[route];
        const r = await mustRunChild<{ calls: Call[] }>('run-guard.ts', spec);
        results[route].push(r.calls[0]!);
        log(`run ${i + 1} ${route}: ${(r.calls[0]!.wallMs / 1000).toFixed(1)} s`);
    }
}

const parts = ['imageMs', 'promptMs', 'afterPromptMs', 'wallMs'] as const;
const names = { imageMs: 'image encode', promptMs: 'prefill', afterPromptMs: 'decode', wallMs: 'whole verdict' };
const figures: Record<string, { prebuilt: number; native: number; ratio: number }> = {};
for (const p of parts) {
    const a = median(results.prebuilt.map((c) => c[p]));
    const b = median(results.native.map((c) => c[p]));
    figures[p] = { prebuilt: a, native: b, ratio: a / b };
}
const same = results.prebuilt.every((c, i) => c.rating === results.native[i]!.rating);
console.log(
    mdTable(
        ['part', 'prebuilt (s)', 'native (s)', 'prebuilt / native'],
        parts.map((p) => [
            names[p],
            f2(figures[p]!.prebuilt / 1000),
            f2(figures[p]!.native / 1000),
            f2(figures[p]!.ratio),
        ]),
    ),
);
console.log(`medians of ${opt.runs} runs each, alternating; same ratings on both routes: ${same}`);
if (opt.json) writeFileSync(opt.json, `${JSON.stringify({ figures, runs: Number(opt.runs), results }, null, 2)}\n`);
