// The model-file checks refuse what llama.cpp would crash on, and never what the real LlavaGuard models are: the
// headers of the shape-faithful pairs (the published checkpoints' keys and tensor shapes) pass them. Each file is its
// real header followed by a hole of the real data size (a sparse file: no disk written).
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { planFileSize, planHeader } from '../gguf/synthetic/plan.js';
import { planShapedModel, type ShapedModelId } from '../gguf/synthetic/shapes.js';
import { validateModelFiles } from '../lib/runtime/validateModelFiles.js';

async function sparseFile(path: string, plan: Parameters<typeof planHeader>[0]): Promise<void> {
    const file = await open(path, 'w');
    try {
        await file.write(await planHeader(plan));
        await file.truncate(await planFileSize(plan));
    } finally {
        await file.close();
    }
}

for (const shapes of ['llavaguard-v1.2-0.5b', 'llavaguard-v1.2-7b', 'llavaguard-v1.1-7b'] as ShapedModelId[]) {
    t.test(`${shapes}: the real keys and tensor shapes pass the model-file checks`, async (t) => {
        const dir = t.testdir();
        const plan = planShapedModel({ shapes, weightType: 'q8_0', mmprojWeightType: 'f16', seed: 0 });
        const model = join(dir, 'model.gguf');
        const mmproj = join(dir, 'mmproj.gguf');
        await sparseFile(model, plan.model);
        await sparseFile(mmproj, plan.mmproj);
        const headers = await validateModelFiles(model, mmproj);
        t.ok(headers.model && headers.mmproj, 'both headers accepted');
    });
}
