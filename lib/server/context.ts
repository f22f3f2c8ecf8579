// What every route handler works with: the guard, the resolved options, the work queue and the metrics.
import type { LlavaGuard } from '../guard/LlavaGuard.js';
import type { Policy } from '../policy/index.js';
import { ApiError } from './errors.js';
import type { ImageLimits } from './image-source.js';
import type { ServerMetrics } from './metrics.js';
import type { WorkQueue } from './work.js';

/** The guard methods the server calls (a LlavaGuard, or anything with its public shape). */
export type ServedGuard = Pick<
    LlavaGuard,
    'assess' | 'assessStream' | 'score' | 'modelInfo' | 'sequences' | 'defaultPolicy'
> &
    Partial<Pick<LlavaGuard, 'contextSize'>>;

export interface ServerContext {
    guard: ServedGuard;
    policy: Policy;
    work: WorkQueue;
    metrics: ServerMetrics;
    images: ImageLimits;
    timeoutMs: number;
}

/** The name a response echoes: `llavaguard` or the loaded model's name; anything else is OpenAI's 404. */
export function checkModel(ctx: ServerContext, model: string | undefined): string {
    if (model === undefined || model === 'llavaguard' || model === ctx.guard.modelInfo.name)
        return model ?? 'llavaguard';
    throw new ApiError(
        404,
        `The model \`${model}\` does not exist: this server runs "${ctx.guard.modelInfo.name}" (also called "llavaguard")`,
        { code: 'model_not_found', param: 'model' },
    );
}
