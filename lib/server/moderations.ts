// POST /v1/moderations in OpenAI's shape. Each image is scored (probabilities from the logits: category_scores)
// and, unless `rationale: false`, assessed greedily for the verdict and its rationale; both go into the result's
// `llavaguard` object. Text is not judged: input without an image is a 400.
import { randomUUID } from 'node:crypto';
import type { Assessment, ScoreResult } from '../guard/types.js';
import type { Policy } from '../policy/index.js';
import { toOpenAICategories, type OpenAICategory } from './categories.js';
import { checkModel, type ServerContext } from './context.js';
import { badRequest } from './errors.js';
import { requestImage, type RequestImage } from './image-source.js';
import { requestPolicy, type PolicyExtensions } from './request-policy.js';

type Part = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface ModerationBody extends PolicyExtensions {
    model?: string;
    input: string | string[] | Part[];
    rationale?: boolean;
    category_map?: Record<string, OpenAICategory[]>;
}

interface ImageVerdict {
    score: ScoreResult;
    assessment: Assessment | undefined;
}

export async function moderate(ctx: ServerContext, body: ModerationBody, signal: AbortSignal) {
    const model = checkModel(ctx, body.model);
    const policy = requestPolicy(ctx.policy, body);
    const urls = imageUrls(body.input);
    const rationale = body.rationale !== false;
    const images = await Promise.all(urls.map((u) => requestImage(u.url, u.param, ctx.images, signal)));
    const verdicts = await Promise.all(
        images.map((image) =>
            ctx.work.run(
                `moderation:${image.sha256}:${policy.hash}:${rationale}`,
                (jobSignal) => judge(ctx, image, policy, rationale, jobSignal),
                signal,
            ),
        ),
    );
    return {
        id: `modr-${randomUUID()}`,
        model,
        results: verdicts.map((v) => result(policy, v, body.category_map)),
    };
}

/** The image parts' URLs; a 400 when there is none (strings are text, which LlavaGuard does not judge). */
function imageUrls(input: ModerationBody['input']): { url: string; param: string }[] {
    const parts = Array.isArray(input) ? input : [input];
    const urls: { url: string; param: string }[] = [];
    parts.forEach((part, i) => {
        if (typeof part === 'object' && part.type === 'image_url')
            urls.push({ url: part.image_url.url, param: `input[${i}].image_url.url` });
    });
    if (urls.length === 0)
        throw badRequest(
            'LlavaGuard judges images: send input as [{"type": "image_url", "image_url": {"url": "data:image/...;base64,..."}}] (text-only input is not assessed)',
            'input',
            'image_required',
        );
    return urls;
}

async function judge(
    ctx: ServerContext,
    image: RequestImage,
    policy: Policy,
    rationale: boolean,
    signal: AbortSignal,
): Promise<ImageVerdict> {
    const [score, assessment] = await Promise.all([
        ctx.guard.score(image.pixels, { policy, signal }),
        rationale ? ctx.guard.assess(image.pixels, { policy, signal, temperature: 0 }) : undefined,
    ]);
    ctx.metrics.assessed(assessment?.timings ?? score.timings);
    return { score, assessment };
}

function result(policy: Policy, v: ImageVerdict, categoryMap: ModerationBody['category_map']) {
    const { score, assessment } = v;
    const rating = assessment?.rating ?? score.rating;
    const category = assessment?.category ?? score.category;
    const unsafe = rating === 'Unsafe';
    return {
        flagged: unsafe,
        ...toOpenAICategories(policy, score, { unsafe, category }, categoryMap),
        llavaguard: {
            rating,
            category,
            rationale: assessment?.rationale ?? null,
            unsafe_probability: score.unsafeProbability,
            category_scores: score.categoryProbabilities,
            policy_hash: policy.hash,
            model: score.model.name,
            image_pipeline: score.imagePipeline,
            verdict_from: assessment ? 'assessment' : 'score',
            raw: assessment?.raw ?? null,
            timings: {
                score: score.timings,
                assessment: assessment?.timings ?? null,
            },
            tokens: {
                prompt: score.tokens.prompt,
                image: score.tokens.image,
                generated: assessment?.tokens.generated ?? 0,
            },
        },
    };
}
