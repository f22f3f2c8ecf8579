// Continuous batching in the Scheduler: generations join the running decode loop between decode steps, each in
// a free sequence slot, and leave it as they finish; greedy results are those of the same requests run one by one.
import t from 'tap';
import { Scheduler } from '../lib/runtime/Scheduler.js';
import { closeAllModels, imagePrompt, patternImage, tinyModel } from './helpers/models.js';

t.teardown(closeAllModels);

/** A generation that decodes exactly 40 tokens: long enough for others to join it. */
const LONG_STORY = {
    prompt: { text: 'USER: tell a long story ASSISTANT:' },
    temperature: 0,
    maxTokens: 40,
    grammar: 'root ::= [a-z ]{400,500}',
};

t.test('16 concurrent generations on 4 slots all complete and equal their sequential greedy results', async (t) => {
    const model = await tinyModel('llava15');
    await using ctx = await model.createContext({ contextSize: 512, sequences: 4 });
    const request = (i: number) => ({
        prompt: { text: imagePrompt(model), images: [patternImage(16, 16, i)] },
        temperature: 0,
        maxTokens: 6 + (i % 5) * 3, // different lengths: slots free at different steps
    });
    const sequential = [];
    for (let i = 0; i < 16; i++) sequential.push(await ctx.generate({ ...request(i), sequence: 0 }));
    const scheduler = new Scheduler(ctx);
    let live = 0;
    let mostLive = 0;
    const together = await Promise.all(
        Array.from({ length: 16 }, (_, i) => {
            let first = true;
            return scheduler
                .generate({
                    ...request(i),
                    onToken: () => {
                        if (first) mostLive = Math.max(mostLive, ++live);
                        first = false;
                    },
                })
                .finally(() => live--);
        }),
    );
    for (let i = 0; i < 16; i++) {
        t.same([...together[i]!.tokens], [...sequential[i]!.tokens], `request ${i}: same tokens`);
        t.equal(together[i]!.stopReason, sequential[i]!.stopReason);
    }
    t.equal(mostLive, 4, 'four generations decoded at once, never more');
    t.equal(scheduler.waiting, 0);
});

t.test('a generation submitted while a long one decodes gets its first token before the long one ends', async (t) => {
    const model = await tinyModel('llava15');
    await using ctx = await model.createContext({ contextSize: 512, sequences: 2 });
    const scheduler = new Scheduler(ctx);
    const events: string[] = [];
    let short: Promise<unknown> | undefined;
    const long = scheduler.generate({
        ...LONG_STORY,
        onToken: () => {
            events.push('long');
            if (events.length === 3) {
                short = scheduler.generate({
                    prompt: { text: 'USER: one word ASSISTANT:' },
                    temperature: 0,
                    maxTokens: 3,
                    grammar: 'root ::= [a-z]{20,30}',
                    onToken: () => events.push('short'),
                });
            }
        },
    });
    const longResult = await long;
    await short;
    t.equal(longResult.tokens.length, 40, 'the long generation ran to its maxTokens');
    const firstShort = events.indexOf('short');
    const lastLong = events.lastIndexOf('long');
    t.ok(
        firstShort > 2 && firstShort < lastLong,
        `short's first token at event ${firstShort}, long's last at ${lastLong}`,
    );
    t.ok(
        events.slice(firstShort).includes('long'),
        'the long one kept decoding after the short one joined (one loop, not one after the other)',
    );
});

t.test('an exclusive task waits for the running loop to drain; generations after it wait for it', async (t) => {
    const model = await tinyModel('llava15');
    await using ctx = await model.createContext({ contextSize: 512, sequences: 2 });
    const scheduler = new Scheduler(ctx);
    const order: string[] = [];
    let queued = false;
    let later: Promise<unknown> | undefined;
    let task: Promise<unknown> | undefined;
    const first = scheduler
        .generate({
            prompt: { text: 'USER: a ASSISTANT:' },
            temperature: 0,
            maxTokens: 12,
            grammar: 'root ::= [a-z ]{200,300}',
            onToken: () => {
                if (queued) return;
                queued = true;
                task = scheduler.exclusive(async (direct) => {
                    order.push('exclusive');
                    await direct.evaluate({ prompt: { text: 'USER: b ASSISTANT:' } });
                });
                later = scheduler
                    .generate({ prompt: { text: 'USER: c ASSISTANT:' }, temperature: 0, maxTokens: 2 })
                    .then(() => order.push('later'));
            },
        })
        .then(() => order.push('first'));
    await first;
    await Promise.all([task, later]);
    t.same(order, ['first', 'exclusive', 'later']);
});

t.test('an image submitted while a generation decodes is encoded between its steps, not after it', async (t) => {
    const model = await tinyModel('onevision');
    await using ctx = await model.createContext({ contextSize: 512, sequences: 2 });
    const scheduler = new Scheduler(ctx);
    const side = model.vision!.imageSize;
    let tokens = 0;
    let tokensAtEncode = -1;
    let encoding: Promise<unknown> | undefined;
    const long = scheduler.generate({
        ...LONG_STORY,
        onToken: () => {
            tokens++;
            if (tokens === 3) {
                encoding = scheduler.encodeImageHandles([patternImage(side, side, 7)]).then((encoded) => {
                    tokensAtEncode = tokens;
                    for (const e of encoded) e.embeddings.dispose();
                });
            }
        },
    });
    const result = await long;
    await encoding;
    t.equal(result.tokens.length, 40, 'the generation ran to its maxTokens');
    t.ok(
        tokensAtEncode >= 3 && tokensAtEncode < 40,
        `the encode finished after token ${tokensAtEncode} of 40, while the generation still decoded`,
    );
    t.equal(ctx.queuedOperations, 0);
});
