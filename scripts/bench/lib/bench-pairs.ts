// The model pairs the overhead benchmark runs: the shape-faithful pairs (written once into the models folder)
// and, for the defaults table, the text model in each weight type.

import { existsSync } from 'node:fs';
import path from 'node:path';

import { writePlannedFile } from '../../../gguf/synthetic/plan.js';
import {
    makeShapedModel,
    planShapedModel,
    type ShapedModelId,
    type ShapedWeightType,
} from '../../../gguf/synthetic/shapes.js';
import { cachedTestModel } from '../../../gguf/synthetic/tiny-models.js';
import { quantizeModel } from '../../../lib/tools/quantize.js';
import { log, mib } from '../common.js';
import type { WeightModel } from '../defaults-table.js';

export type Pair = { model: string; mmproj: string };

/** The shaped pair in modelsDir (weightType text, F16 mmproj), written when it is not there yet. */
export async function ensurePair(
    modelsDir: string,
    shapes: ShapedModelId,
    weightType: ShapedWeightType,
): Promise<Pair> {
    const dir = path.join(modelsDir, `${shapes}-${weightType}`);
    const model = path.join(dir, 'model.gguf');
    const mmproj = path.join(dir, 'mmproj.gguf');
    if (existsSync(model) && existsSync(mmproj)) return { model, mmproj };
    log(`writing the ${shapes} pair (${weightType} text, f16 mmproj) to ${dir} ...`);
    let last = 0;
    const r = await makeShapedModel({
        shapes,
        outDir: dir,
        weightType,
        mmprojWeightType: 'f16',
        seed: 0,
        onProgress: (p) => {
            const now = performance.now();
            if (now - last > 15000) {
                last = now;
                log(`  ${p.file}: ${((100 * p.bytesWritten) / p.totalBytes).toFixed(0)}%`);
            }
        },
    });
    log(`  done in ${(r.ms / 1000).toFixed(0)} s: model ${mib(r.modelBytes)} MiB, mmproj ${mib(r.mmprojBytes)} MiB`);
    return { model, mmproj };
}

/**
 * The shaped pair with a Q8_0 mmproj (the mmproj-q8_0.gguf beside the F16 one): what `convert --type q8_0` writes,
 * the README's choice for a CPU.
 */
export async function ensureQ8Pair(modelsDir: string, shapes: ShapedModelId): Promise<Pair> {
    const q8 = await ensurePair(modelsDir, shapes, 'q8_0');
    const mmproj = path.join(path.dirname(q8.model), 'mmproj-q8_0.gguf');
    if (!existsSync(mmproj)) {
        log(`writing the Q8_0 mmproj to ${mmproj} ...`);
        const plan = planShapedModel({ shapes, weightType: 'q8_0', mmprojWeightType: 'q8_0', seed: 0 });
        await writePlannedFile(plan.mmproj, mmproj, plan.seed);
    }
    return { model: q8.model, mmproj };
}

/**
 * The text model by weight type for the defaults table, F16 (reference) first: the tiny test models (quick), the
 * given pair (--pair), or the shaped 0.5B pairs; then a Q4_K_M quantized from the first.
 */
export async function weightModels(
    pair: Pair,
    o: { modelsDir: string; quick: boolean; given: boolean; threads: number },
): Promise<WeightModel[]> {
    let list: Array<{ type: string } & Pair>;
    if (o.quick || o.given) {
        // tiny test models: F16 and Q8_0 written by gguf/synthetic/tiny-models.ts (no BF16 writer there)
        const f16 = o.quick ? await cachedTestModel('onevision', { weightType: 'f16' }) : pair;
        list = [{ type: o.quick ? 'F16' : `given (${path.basename(pair.model)})`, ...f16 }];
        if (o.quick) list.push({ type: 'Q8_0', ...(await cachedTestModel('onevision', { weightType: 'q8_0' })) });
    } else {
        const f16 = await ensurePair(o.modelsDir, 'llavaguard-v1.2-0.5b', 'f16');
        const bf16 = await ensurePair(o.modelsDir, 'llavaguard-v1.2-0.5b', 'bf16');
        list = [
            { type: 'F16', ...f16 },
            { type: 'BF16', model: bf16.model, mmproj: f16.mmproj },
            { type: 'Q8_0', model: pair.model, mmproj: f16.mmproj },
        ];
    }
    const q4 = path.join(path.dirname(list[0]!.model), 'model-q4_k_m.gguf');
    if (!existsSync(q4)) {
        log(`quantizing ${list[0]!.model} to Q4_K_M (lib/tools/quantize.ts) ...`);
        await quantizeModel(list[0]!.model, q4, 'q4_k_m', o.threads);
    }
    list.push({ type: 'Q4_K_M', model: q4, mmproj: list[0]!.mmproj });
    return list;
}
