// The scheduler is the one route from the public methods to a context: generations (plain and streamed) that
// wait at the same time share one batch, exclusive tasks queue in the same FIFO, and every abort rejects with
// AbortError.
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/tiny-models.js';
import { LlavaGuard, Policy } from '../lib/index.js';
import { AbortError } from '../lib/runtime/errors.js';
import { Scheduler } from '../lib/runtime/Scheduler.js';
import type { VisionContext } from '../lib/runtime/VisionContext.js';
import { closeAllModels, imagePrompt, patternImage, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

/** Counts the context's queued operations (each batch or task is one). */
function countOperations(ctx: VisionContext): { count: number } {
    const counter = { count: 0 };
    const original = ctx.exclusive.bind(ctx);
    ctx.exclusive = ((op: Parameters<VisionContext['exclusive']>[0]) => {
        counter.count++;
        return original(op);
    }) as VisionContext['exclusive'];
    return counter;
}

t.test('generations and streams that wait at the same time run as one batch', async (t) => {
    const model = await tinyModel('onevision');
    await using ctx = await model.createContext({ contextSize: 1024, sequences: 3 });
    const scheduler = new Scheduler(ctx);
    const request = (seed: number) => ({
        prompt: { text: imagePrompt(model), images: [patternImage(16, 16, seed)] },
        seed,
        temperature: 0,
        maxTokens: 8,
    });
    const alone = await ctx.generate(request(3));
    const ops = countOperations(ctx);
    const streamed = (async () => {
        const tokens: number[] = [];
        for await (const ev of scheduler.stream(request(3))) if (ev.type === 'token') tokens.push(ev.token);
        return tokens;
    })();
    const [a, b, tokens] = await Promise.all([
        scheduler.generate(request(1)),
        scheduler.generate(request(2)),
        streamed,
    ]);
    t.equal(ops.count, 1, 'one batch for the two generations and the stream');
    t.ok(a.tokens.length > 0 && b.tokens.length > 0);
    t.same(tokens, [...alone.tokens], 'the stream in a batch gives what the generation gives alone');
});

t.test('aborts reject with AbortError: running, waiting, in a batch, and in an exclusive task', async (t) => {
    const model = await tinyModel('onevision');
    await using ctx = await model.createContext({ contextSize: 1024, sequences: 2 });
    const scheduler = new Scheduler(ctx);
    const prompt = { text: imagePrompt(model), images: [patternImage(16, 16, 1)] };

    const controller = new AbortController();
    let seen = 0;
    const running = scheduler.generate({
        prompt,
        seed: 1,
        temperature: 1,
        maxTokens: 200,
        signal: controller.signal,
        onToken: () => {
            if (++seen === 2) controller.abort();
        },
    });
    const neighbour = scheduler.generate({ prompt, seed: 2, temperature: 1, maxTokens: 6 });
    const error = await running.then(
        () => undefined,
        (e: unknown) => e,
    );
    t.type(error, AbortError, 'the aborted generation rejects');
    t.equal((error as AbortError).code, 'ABORT_ERR');
    t.ok((error as AbortError).partial!.tokens.length >= 2, 'with what it had generated');
    t.ok((await neighbour).tokens.length > 0, 'its neighbour in the batch completes');

    // A generation aborted while it waits behind a task never reaches the context.
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
        open = resolve;
    });
    const blocker = scheduler.exclusive(() => gate);
    const waiting = new AbortController();
    const queued = scheduler.generate({ prompt, maxTokens: 4, signal: waiting.signal });
    waiting.abort();
    await t.rejects(queued, AbortError, 'rejected while waiting');
    t.equal(scheduler.waiting, 0);
    open();
    await blocker;

    await t.rejects(
        scheduler.generate({ prompt, maxTokens: 4, signal: AbortSignal.abort() }),
        AbortError,
        'an already aborted signal',
    );
    await t.rejects(
        scheduler.exclusive(async () => 1, { signal: AbortSignal.abort() }),
        AbortError,
        'an exclusive task with an aborted signal does not run',
    );
    const inTask = new AbortController();
    await t.rejects(
        scheduler.exclusive((direct) =>
            direct.generateMany([
                {
                    prompt,
                    maxTokens: 100,
                    temperature: 1,
                    signal: inTask.signal,
                    onToken: () => inTask.abort(),
                },
            ]),
        ),
        AbortError,
        "a task's aborted generation rejects too",
    );
    t.throws(() => scheduler.generate({ prompt, sequence: 1 } as never), TypeError, 'the scheduler places requests');
    t.ok((await scheduler.generate({ prompt, maxTokens: 3 })).tokens.length > 0, 'still usable');
});

t.test('every guard method rejects an aborted call with AbortError', async (t) => {
    const guard = await LlavaGuard.load({ ...(await cachedTestModel('onevision')), threads: 1, sequences: 2 });
    t.teardown(() => guard.close());
    const img = patternImage(16, 16, 5);
    const png = await sharp(Buffer.from(img.data), { raw: { width: 16, height: 16, channels: 3 } })
        .png()
        .toBuffer();
    const signal = AbortSignal.abort();
    await t.rejects(guard.assess(png, { signal }), { name: 'AbortError', code: 'ABORT_ERR' }, 'assess');
    await t.rejects(guard.score(png, { signal }), { name: 'AbortError' }, 'score');
    await t.rejects(
        guard.assessPolicies(png, [Policy.default('v1.2')], { signal }),
        { name: 'AbortError' },
        'assessPolicies',
    );
    const stream = async () => {
        for await (const _ of guard.assessStream(png, { signal })) {
            /* nothing arrives */
        }
    };
    await t.rejects(stream(), { name: 'AbortError' }, 'assessStream');
    const later = new AbortController();
    const policies = [Policy.default('v1.2'), Policy.default('v1.2').allow('O1')];
    const shared = guard.assessPolicies(png, policies, { signal: later.signal, maxRationaleChars: 400, seed: 1 });
    setImmediate(() => later.abort());
    const outcome = await shared.then(
        () => 'completed',
        (e: Error) => e.name,
    );
    t.ok(['AbortError', 'completed'].includes(outcome), `assessPolicies aborted midway: ${outcome}`);
    t.ok((await guard.assess(png, { seed: 1, maxRationaleChars: 5 })).rating, 'the guard stays usable');
});
