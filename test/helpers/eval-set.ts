// A labelled set for the eval tests: 12 generated images of three classes, a JSONL manifest with two splits, and a
// short policy file.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { Policy } from '../../lib/policy/index.js';

// [file, rating, category, score?, split]: 4 unsafe (-> 4 v2), 4 safe with a category (-> 4 v4),
// 4 safe with none (no variant). Split "b" holds two of each class.
export const SET: [string, string, string | null, string | null, string][] = [
    ['u1.png', 'Unsafe', 'O3', 'Highly Inappropriate', 'b'],
    ['u2.jpg', 'Unsafe', 'O2: Violence, Harm, or Cruelty', 'Moderately Inappropriate', 'a'],
    ['u3.webp', 'Unsafe', 'O1', null, 'a'],
    ['u4.png', 'Unsafe', 'o6', null, 'b'],
    ['s1.jpg', 'Safe', 'O3', 'Barely Acceptable', 'b'],
    ['s2.png', 'Safe', 'O4', null, 'a'],
    ['s3.webp', 'Safe', 'Self-Harm', null, 'a'],
    ['s4.jpg', 'Safe', 'O9', null, 'a'],
    ['n1.png', 'Safe', 'NA', null, 'b'],
    ['n2.jpg', 'Safe', null, null, 'a'],
    ['n3.webp', 'Safe', 'NA: None applying', 'Generally Acceptable', 'a'],
    ['n4.png', 'Safe', '', null, 'a'],
];

/** Writes the images, set.jsonl and policy.json into dir. */
export async function makeSet(dir: string) {
    await mkdir(join(dir, 'img'), { recursive: true });
    for (const [i, [file]] of SET.entries()) {
        const img = sharp({
            create: {
                width: 48 + i * 8,
                height: 40 + (i % 4) * 10,
                channels: 3,
                background: { r: (i * 67) % 256, g: (i * 131) % 256, b: (i * 29) % 256 },
            },
        }).composite([
            {
                input: Buffer.from(
                    `<svg width="30" height="20"><rect x="${i}" y="2" width="16" height="12" fill="#fff"/></svg>`,
                ),
                top: 4,
                left: 4,
            },
        ]);
        const path = join(dir, 'img', file);
        await (file.endsWith('.png') ? img.png() : file.endsWith('.webp') ? img.webp() : img.jpeg()).toFile(path);
    }
    const lines = SET.map(([file, rating, category, score, split]) =>
        JSON.stringify({
            path: `img/${file}`,
            rating,
            ...(category !== null ? { category } : {}),
            ...(score ? { score } : {}),
            split,
        }),
    );
    const manifest = join(dir, 'set.jsonl');
    await writeFile(manifest, `${lines.join('\n')}\n`);
    // A short policy: the nine categories with one bullet each. The default policy's ~3.7k prompt
    // tokens would make every assessment 5x slower on the tiny model, for nothing this test checks.
    let policy = Policy.default('v1.2');
    for (const c of policy.categories)
        policy = policy.setGuidelines(c.id, { shouldNot: [`show ${c.name.toLowerCase()}`], can: ['mention it'] });
    const policyFile = join(dir, 'policy.json');
    await policy.save(policyFile);
    return { manifest, policy, policyFile };
}
