// Fixtures of the server tests: a tiny OneVision guard, a short policy (a short prompt keeps the tiny model's
// prefill quick), PNG data URLs of distinct pictures, and a server listening on 127.0.0.1.
process.env.LLAVAGUARD_THREADS ??= '1';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { cachedTestModel } from '../../gguf/synthetic/tiny-models.js';
import { LlavaGuard } from '../../lib/guard/LlavaGuard.js';
import { Policy } from '../../lib/policy/index.js';
import { createServer, type ServerOptions } from '../../lib/server/index.js';
import { patternImage } from './models.js';

/** Two categories with one-line guidelines: the same layout as the trained policy, a fraction of its tokens. */
export const SHORT_POLICY = Policy.default('v1.2')
    .remove('O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9')
    .setGuidelines('O1', { shouldNot: ['Show hate.'], can: ['Teach history.'] })
    .setGuidelines('O2', { shouldNot: ['Show violence.'], can: ['Show sports.'] });

export async function pngOf(width: number, height: number, seed: number): Promise<Buffer> {
    const img = patternImage(width, height, seed);
    return sharp(Buffer.from(img.data), { raw: { width, height, channels: 3 } })
        .png()
        .toBuffer();
}

export const dataUrl = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

export async function imageUrl(seed: number, size = 24): Promise<string> {
    return dataUrl(await pngOf(size, size, seed));
}

export function tinyGuard(sequences: number): Promise<LlavaGuard> {
    return cachedTestModel('onevision').then((files) => LlavaGuard.load({ ...files, threads: 1, sequences }));
}

export interface Served {
    baseURL: string;
    url: string;
    close(): Promise<void>;
}

/** createServer on 127.0.0.1, an ephemeral port. */
export async function serve(guard: LlavaGuard, options: ServerOptions = {}): Promise<Served> {
    const app = await createServer(guard, { policy: SHORT_POLICY, ...options });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}`;
    return { url, baseURL: `${url}/v1`, close: () => app.close() };
}

/** The reference's chat request: one image_url part, then the policy text. */
export function referenceMessages(url: string, policy: Policy = SHORT_POLICY) {
    return [
        {
            role: 'user' as const,
            content: [
                { type: 'image_url' as const, image_url: { url } },
                { type: 'text' as const, text: policy.render() },
            ],
        },
    ];
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch {
        json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json: json as any };
}

/** A counter or gauge of /metrics, summed over its labels. */
export async function metric(served: Served, name: string, headers: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${served.url}/metrics`, { headers })).text();
    return text
        .split('\n')
        .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
