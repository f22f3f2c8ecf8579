// For the child scripts (run-ours.ts, run-encode.ts): a model and its context, loaded and timed as one step;
// the load time is reported beside the timed figures, never inside them.

import { VisionModel } from '../../../lib/runtime/VisionModel.js';
import { timedLoad } from '../common.js';

export async function loadModelAndContext(
    modelOptions: Parameters<typeof VisionModel.load>[0],
    contextOptions: Parameters<VisionModel['createContext']>[0],
) {
    const { loaded, loadMs } = await timedLoad(async () => {
        const model = await VisionModel.load(modelOptions);
        return { model, ctx: await model.createContext(contextOptions) };
    });
    return { ...loaded, loadMs };
}
