import t from 'tap';
import sharp from 'sharp';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { demoGradient } from '../lib/cli/commands/demo.js';
import { LlavaGuard, Policy } from '../lib/index.js';
import { pngHeaderOnly } from './fixtures/images/make.js';
import { FAMILIES, patternImage } from './helpers/models.js';

const guards = new Map<string, Promise<LlavaGuard>>();
function guardFor(family: 'llava15' | 'onevision'): Promise<LlavaGuard> {
    if (!guards.has(family))
        guards.set(
            family,
            cachedTestModel(family).then((p) => LlavaGuard.load({ ...p, threads: 1 })),
        );
    return guards.get(family)!;
}
t.teardown(async () => {
    for (const g of guards.values()) await (await g).close();
});

const pngOf = (w: number, h: number, seed: number) => {
    const img = patternImage(w, h, seed);
    return sharp(Buffer.from(img.data), { raw: { width: w, height: h, channels: 3 } })
        .png()
        .toBuffer();
};

for (const family of FAMILIES) {
    t.test(`${family}: the chat format is chosen from the GGUF metadata and reported`, async (t) => {
        const guard = await guardFor(family);
        t.equal(guard.modelInfo.chatFormat, family === 'llava15' ? 'llava15-vicuna-system' : 'onevision-qwen');
        t.ok(guard.modelInfo.chatFormatReason.length > 0);
        t.equal(guard.modelInfo.randomWeights, true);
    });

    t.test(
        `${family}: the grammar yields a parseable verdict on 50 seeds, its category one of the policy's`,
        async (t) => {
            const guard = await guardFor(family);
            const image = await pngOf(48, 32, 1);
            const policy = guard.defaultPolicy;
            let ok = 0;
            for (let seed = 0; seed < 50; seed++) {
                const v = await guard.assess(image, { seed, temperature: 1, maxRationaleChars: 40, maxTokens: 500 });
                JSON.parse(v.raw);
                if (
                    v.parsedBy === 'json' &&
                    policy.categoryStrings.includes(v.category!) &&
                    (v.rating === 'Safe' || v.rating === 'Unsafe')
                )
                    ok++;
                else t.fail(`seed ${seed}: ${v.raw}`);
                t.equal(v.unsafe, v.rating === 'Unsafe');
            }
            t.equal(ok, 50);
        },
    );

    t.test(`${family}: a custom policy with categories of its own constrains the category`, async (t) => {
        const guard = await guardFor(family);
        const policy = Policy.default('v1.2')
            .remove('O1', 'O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8')
            .addCategory({
                id: 'O10',
                name: 'Spam "Ads"',
                shouldNot: ['Contain advertising.'],
                can: ['Contain logos.'],
            });
        const seen = new Set<string>();
        for (let seed = 0; seed < 20; seed++) {
            const v = await guard.assess(await pngOf(16, 16, seed), {
                policy,
                seed,
                temperature: 1.5,
                maxRationaleChars: 10,
            });
            t.ok(policy.categoryStrings.includes(v.category!), v.category!);
            seen.add(v.category!);
            t.equal(v.policyHash, policy.hash);
        }
        t.ok(seen.size >= 1);
    });

    t.test(`${family}: the stream ends with the same verdict as assess, the rating announced before it`, async (t) => {
        const guard = await guardFor(family);
        const image = await pngOf(32, 32, 2);
        const options = { seed: 11, maxRationaleChars: 30 };
        const direct = await guard.assess(image, options);
        const events = [];
        for await (const ev of guard.assessStream(image, options)) events.push(ev);
        const verdict = events.at(-1)!;
        t.equal(verdict.type, 'verdict');
        if (verdict.type !== 'verdict') return;
        t.equal(verdict.assessment.raw, direct.raw);
        t.equal(verdict.assessment.rating, direct.rating);
        const ratingAt = events.findIndex((e) => e.type === 'rating');
        t.ok(ratingAt > 0 && ratingAt < events.length - 2, 'rating event comes before the rationale tokens');
        const text = events
            .filter((e) => e.type === 'token')
            .map((e) => (e as { text: string }).text)
            .join('');
        t.equal(text, direct.raw);
    });

    t.test(`${family}: the result is typed and carries timings, token counts and the model`, async (t) => {
        const guard = await guardFor(family);
        const v = await guard.assess(await pngOf(20, 20, 3), { seed: 1, maxRationaleChars: 20 });
        t.ok(v.tokens.prompt > 1000, `${v.tokens.prompt} prompt tokens (the policy is ~1.1k tokens)`);
        t.ok(v.tokens.image > 0 && v.tokens.generated > 5);
        for (const k of ['imageMs', 'promptMs', 'decodeMs', 'totalMs'] as const) t.ok(v.timings[k] >= 0, k);
        t.equal(v.model.path.endsWith('model.gguf'), true);
        t.equal(
            v.model.policyVersion,
            family === 'onevision' ? 'v1.2' : 'v1.0',
            'unversioned LLaVA-based LlavaGuard = the v1.0 release',
        );
    });
}

t.test('concurrent assessments on one guard queue safely', async (t) => {
    const guard = await guardFor('onevision');
    const images = await Promise.all([1, 2, 3].map((s) => pngOf(16, 16, s)));
    const results = await Promise.all(images.map((img, i) => guard.assess(img, { seed: i, maxRationaleChars: 10 })));
    t.equal(results.length, 3);
});

t.test('an aborted assessment rejects with AbortError and the guard stays usable', async (t) => {
    const guard = await guardFor('onevision');
    const controller = new AbortController();
    const image = await pngOf(16, 16, 4);
    const running = (async () => {
        for await (const ev of guard.assessStream(image, { seed: 1, signal: controller.signal })) {
            if (ev.type === 'rating') controller.abort();
        }
    })();
    await t.rejects(running, { name: 'AbortError' });
    const v = await guard.assess(image, { seed: 1, maxRationaleChars: 5 });
    t.ok(v.rating);
});

t.test('without the grammar, the tolerant parser reads the answer or says why it cannot', async (t) => {
    const guard = await guardFor('onevision');
    const image = await pngOf(16, 16, 5);
    const outcomes = { parsed: 0, unreadable: 0 };
    for (let seed = 0; seed < 5; seed++) {
        try {
            await guard.assess(image, { seed, grammar: false, maxTokens: 20 });
            outcomes.parsed++;
        } catch (error) {
            t.equal((error as Error).name, 'VerdictParseError');
            outcomes.unreadable++;
        }
    }
    t.equal(outcomes.parsed + outcomes.unreadable, 5, JSON.stringify(outcomes));
});

t.test('bad images give clear errors through the guard, and it keeps working', async (t) => {
    const guard = await guardFor('llava15');
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#39c' } })
        .jpeg()
        .toBuffer();
    const cases: Array<[string, unknown, RegExp]> = [
        ['a truncated JPEG', jpeg.subarray(0, jpeg.length / 2), /truncat|corrupt|premature|error/i],
        ['zero bytes', Buffer.alloc(0), /empty/i],
        [
            'random bytes',
            Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 97 + 13) & 255)),
            /unsupported|not.*image|format/i,
        ],
        ['a text file', Buffer.from('hello, I am text\n'), /unsupported|not.*image|format/i],
        ['a missing path', '/nonexistent/photo.jpg', /no such file|not found|does not exist/i],
    ];
    cases.push(['a 20000x20000 PNG', pngHeaderOnly(20000, 20000), /20000x20000/]);
    for (const [what, input, message] of cases) {
        await t.rejects(guard.assess(input as Buffer), { name: 'ImageDecodeError', message }, what);
    }
    const v = await guard.assess(jpeg, { seed: 1, maxRationaleChars: 5 });
    t.ok(v.rating, 'still assesses');
});

t.test('onevision: a rationale holds only Unicode scalar values, never bytes that reach JS as U+FFFD', async (t) => {
    // The demo's gradient: with a negated character class the random model wrote an F5-led "character" here,
    // which llama.cpp's grammar decodes as a code point above U+10FFFF and which is not UTF-8.
    const guard = await guardFor('onevision');
    const gradient = demoGradient();
    const jpeg = await sharp(gradient.data, { raw: { width: gradient.width, height: gradient.height, channels: 3 } })
        .jpeg()
        .toBuffer();
    for (let seed = 0; seed < 6; seed++) {
        const a = await guard.assess(jpeg, { seed, maxRationaleChars: 120 });
        t.notOk(a.raw.includes('\uFFFD'), `seed ${seed}: ${JSON.stringify(a.raw.slice(-16))}`);
        t.equal(a.parsedBy, 'json');
    }
});
