import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { LlavaGuard, Policy } from '../lib/index.js';
import { patternImage } from './helpers/models.js';

const pngOf = (w: number, h: number, seed: number) => {
    const img = patternImage(w, h, seed);
    return sharp(Buffer.from(img.data), { raw: { width: w, height: h, channels: 3 } })
        .png()
        .toBuffer();
};

const opened: LlavaGuard[] = [];
async function guard(family: 'llava15' | 'onevision', sequences = 1) {
    const g = await LlavaGuard.load({ ...(await cachedTestModel(family)), threads: 1, sequences });
    opened.push(g);
    return g;
}
t.teardown(async () => {
    for (const g of opened) await g.close();
});

for (const family of ['llava15', 'onevision'] as const) {
    t.test(`${family}: rationale false stops after the category and still gives a typed verdict`, async (t) => {
        const g = await guard(family);
        const image = await pngOf(24, 24, 1);
        const v = await g.assess(image, { seed: 2, rationale: false });
        t.equal(v.rationale, null);
        t.equal(v.parsedBy, 'json');
        t.ok(g.defaultPolicy.categoryStrings.includes(v.category!));
        t.same(Object.keys(JSON.parse(v.raw)), ['rating', 'category']);
        const full = await g.assess(image, { seed: 2, maxRationaleChars: 200 });
        t.ok(
            v.tokens.generated < full.tokens.generated,
            `${v.tokens.generated} tokens instead of ${full.tokens.generated}`,
        );
    });

    t.test(`${family}: score mode gives normalised probabilities for the rating and every category`, async (t) => {
        const g = await guard(family);
        const policy = Policy.default('v1.2').allow('O6');
        const a = await g.score(await pngOf(32, 32, 1), { policy });
        const b = await g.score(await pngOf(32, 32, 1), { policy });
        const c = await g.score(await pngOf(32, 32, 9), { policy });
        t.ok(a.unsafeProbability >= 0 && a.unsafeProbability <= 1);
        t.equal(a.ratingProbabilities.Safe + a.ratingProbabilities.Unsafe, 1);
        t.same(Object.keys(a.categoryProbabilities), [...policy.categoryStrings]);
        const sum = Object.values(a.categoryProbabilities).reduce((x, y) => x + y, 0);
        t.ok(Math.abs(sum - 1) < 1e-9, `category probabilities sum to ${sum}`);
        t.equal(a.rating, a.unsafeProbability > 0.5 ? 'Unsafe' : 'Safe');
        t.equal(a.categoryProbabilities[a.category], Math.max(...Object.values(a.categoryProbabilities)));
        t.same(a.categoryProbabilities, b.categoryProbabilities, 'deterministic');
        t.not(a.unsafeProbability, c.unsafeProbability, 'depends on the image');
        t.equal(a.policyHash, policy.hash);
        t.ok(a.forwardPasses.scoring <= 8, `${a.forwardPasses.scoring} small forward passes after the prefill`);
    });

    t.test(`${family}: assessPolicies shares the image prefix and answers like separate assessments`, async (t) => {
        const g = await guard(family, 1);
        const image = await pngOf(20, 28, 3);
        const policies = [
            Policy.default('v1.2'),
            Policy.default('v1.2').allow('O6'),
            Policy.default('v1.2').sensitive('O3'),
        ];
        const shared = await g.assessPolicies(image, policies, { seed: 5, maxRationaleChars: 20 });
        t.equal(shared.length, 3);
        for (const [i, policy] of policies.entries()) {
            const alone = await g.assess(image, { policy, seed: 5, maxRationaleChars: 20 });
            t.equal(shared[i]!.raw, alone.raw, `policy ${i}: same answer`);
            t.equal(shared[i]!.policyHash, policy.hash);
        }
        t.ok(shared[1]!.timings.imageMs === 0, 'the image is encoded once');
    });
}

t.test('assessPolicies batches policies over parallel sequence slots', async (t) => {
    const g = await guard('onevision', 3);
    const policies = ['O1', 'O2', 'O3', 'O4'].map((id) => Policy.default('v1.2').allow(id));
    const results = await g.assessPolicies(await pngOf(16, 16, 2), policies, { seed: 1, maxRationaleChars: 10 });
    t.same(
        results.map((r) => r.policyHash),
        policies.map((p) => p.hash),
    );
    for (const r of results) t.ok(policies[0]!.categoryStrings.includes(r.category!));
});
