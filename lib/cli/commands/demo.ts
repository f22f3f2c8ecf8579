import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import sharp from 'sharp';
import { cachedTestModel } from '../../../gguf/synthetic/tiny-models.js';
import { LlavaGuard } from '../../guard/LlavaGuard.js';
import { formatAssessment } from '../print-assessment.js';

/** Where generated demo models and images live (LLAVAGUARD_CACHE overrides). */
export function demoCacheDir(): string {
    return process.env.LLAVAGUARD_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'llavaguard');
}

/** The demo's first picture: a red-green gradient over blue 128, packed RGB. */
export function demoGradient(w = 640, h = 480): { data: Buffer; width: number; height: number } {
    const data = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) data.set([(x * 255) / w, (y * 255) / h, 128], (y * w + x) * 3);
    return { data, width: w, height: h };
}

/** A few synthetic pictures: enough to show decoding, tiling and the verdict pipeline end to end. */
async function makeDemoImages(dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    const gradient = demoGradient();
    const svg = `<svg width="512" height="512"><rect width="512" height="512" fill="#2a6"/><circle cx="256" cy="256" r="160" fill="#fd3"/><text x="256" y="280" font-size="64" text-anchor="middle">demo</text></svg>`;
    const files = [
        {
            name: 'gradient.jpg',
            make: () =>
                sharp(gradient.data, { raw: { width: gradient.width, height: gradient.height, channels: 3 } }).jpeg(),
        },
        { name: 'sun.png', make: () => sharp(Buffer.from(svg)).png() },
        {
            name: 'panorama.webp',
            make: () => sharp({ create: { width: 1600, height: 300, channels: 3, background: '#468' } }).webp(),
        },
    ];
    const paths: string[] = [];
    for (const f of files) {
        const path = join(dir, f.name);
        await f.make().toFile(path);
        paths.push(path);
    }
    return paths;
}

export function registerDemo(program: Command): void {
    program
        .command('demo')
        .description(
            'run the whole pipeline on a generated random-weight model and generated images (no weights needed)',
        )
        .option(
            '--family <family>',
            'demo model family: onevision (v1.2 style) or llava15 (v1.0/v1.1 style)',
            'onevision',
        )
        .action(async (options: { family: 'onevision' | 'llava15' }) => {
            if (!['onevision', 'llava15'].includes(options.family))
                throw new Error('--family must be onevision or llava15');
            const cache = demoCacheDir();
            process.env.LLAVAGUARD_CACHE = cache;
            const pair = await cachedTestModel(options.family);
            const images = await makeDemoImages(join(cache, 'demo-images'));
            console.log('llavaguard demo');
            console.log('  The demo model has RANDOM WEIGHTS: its verdicts mean nothing. It shows the pipeline');
            console.log('  (image decoding, policy prompt, chat format, grammar-constrained JSON verdict) working');
            console.log('  end to end on a machine without LlavaGuard weights. See the README for real weights.');
            console.log(`  model:  ${pair.model}\n  mmproj: ${pair.mmproj}\n`);
            await using guard = await LlavaGuard.load({ ...pair });
            console.log(`  chat format: ${guard.modelInfo.chatFormat} (${guard.modelInfo.chatFormatReason})\n`);
            for (const [i, path] of images.entries()) {
                const a = await guard.assess(path, { seed: i, maxRationaleChars: 120 });
                console.log(formatAssessment(path, a));
            }
        });
}
