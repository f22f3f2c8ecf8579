// Every bad request gets a 4xx JSON error in OpenAI's shape and the server keeps serving: malformed JSON, wrong
// types, an unknown model, an oversized body or image, a data: URL that is not an image, text-only input, image
// URLs to loopback / private targets (a stubbed resolver: nothing leaves loopback), file: URLs, a missing or
// wrong key. Also: a full queue answers 429 with Retry-After, and a client that disconnects stops its generation.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import type { HostResolver } from '../lib/server/index.js';
import {
    dataUrl,
    imageUrl,
    metric,
    pngOf,
    postJson,
    referenceMessages,
    serve,
    tinyGuard,
} from './helpers/server-fixtures.js';

const KEY = 'sk-local-test';
const auth = { authorization: `Bearer ${KEY}` };
const guard = await tinyGuard(2);

// A resolver that knows two test names and nothing else (no DNS query is ever sent).
const stubResolver: HostResolver = async (hostname) => {
    if (hostname === 'intranet.test') return [{ address: '10.1.2.3', family: 4 }];
    if (hostname === 'images.test') return [{ address: '127.0.0.1', family: 4 }];
    throw new Error(`stub resolver: unknown host ${hostname}`);
};

const strict = await serve(guard, {
    apiKey: KEY,
    bodyLimit: 256 * 1024,
    maxImagePixels: 100 * 100,
    resolveHost: stubResolver,
});
const remote = await serve(guard, { allowRemoteImages: true, resolveHost: stubResolver, maxImageBytes: 4096 });
// Remote fetching where the address check lets 127.0.0.1 through, to see where the connection really goes.
const loopbackAllowed = await serve(guard, {
    allowRemoteImages: true,
    resolveHost: stubResolver,
    maxImageBytes: 4096,
    refusedAddressReason: (address) => (address === '127.0.0.1' ? null : `${address} is not the test host`),
});

// The "remote" image host: a loopback server with a PNG, a redirect and an oversized file.
const png = await pngOf(16, 16, 3);
const imageHost = http.createServer((req, res) => {
    if (req.url === '/image.png') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    else if (req.url === '/redirect') res.writeHead(302, { location: '/image.png' }).end();
    else if (req.url === '/big.png') res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(100_000));
    else res.writeHead(404).end();
});
await new Promise<void>((resolve) => imageHost.listen(0, '127.0.0.1', resolve));
const imagePort = (imageHost.address() as AddressInfo).port;

t.teardown(async () => {
    for (const s of [strict, remote, loopbackAllowed]) await s.close();
    imageHost.close();
    await guard.close();
});

const moderation = (url: string, extra: object = {}) => ({
    model: 'llavaguard',
    input: [{ type: 'image_url', image_url: { url } }],
    rationale: false,
    ...extra,
});

async function expectError(
    t: Test,
    response: Awaited<ReturnType<typeof postJson>>,
    status: number,
    code?: string | RegExp,
) {
    t.equal(response.status, status, `HTTP ${status}: ${response.text.slice(0, 200)}`);
    t.match(response.headers.get('content-type'), /application\/json/);
    t.type(response.json?.error?.message, 'string', 'an error message');
    if (code !== undefined) t.match(response.json.error.code, code);
}

t.test('bad requests get 4xx JSON errors', async (t) => {
    const url = `${strict.url}/v1/moderations`;
    const chat = `${strict.url}/v1/chat/completions`;
    const good = await imageUrl(1);
    await expectError(t, await postJson(url, '{"input": [', auth), 400);
    await expectError(t, await postJson(url, { input: 5 }, auth), 400, 'invalid_type');
    await expectError(t, await postJson(chat, { messages: referenceMessages(good), temperature: '0.2' }, auth), 400);
    await expectError(t, await postJson(chat, { messages: 'hello' }, auth), 400);
    await expectError(t, await postJson(url, moderation(good, { model: 'gpt-4o' }), auth), 404, 'model_not_found');
    await expectError(t, await postJson(url, { input: 'is this text safe?' }, auth), 400, 'image_required');
    await expectError(t, await postJson(url, { input: ['a', 'b'] }, auth), 400, 'image_required');
    await expectError(t, await postJson(url, moderation(`data:image/png;base64,${'A'.repeat(400_000)}`), auth), 413);
    await expectError(
        t,
        await postJson(
            url,
            moderation(`data:image/png;base64,${Buffer.from('not an image').toString('base64')}`),
            auth,
        ),
        400,
        'invalid_image',
    );
    await expectError(t, await postJson(url, moderation(dataUrl(await pngOf(120, 120, 1))), auth), 413);
    await expectError(t, await postJson(url, moderation('file:///etc/passwd'), auth), 400, 'image_url_refused');
    await expectError(t, await postJson(url, moderation('/etc/passwd'), auth), 400);
    await expectError(t, await postJson(url, moderation(good, { allow: ['O42'] }), auth), 400, 'invalid_policy');
    await expectError(
        t,
        await postJson(url, moderation(good, { policy: { version: 'v9' } }), auth),
        400,
        'invalid_policy',
    );
    await expectError(
        t,
        await postJson(chat, { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }, auth),
        400,
        'image_required',
    );
    await expectError(
        t,
        await postJson(
            chat,
            {
                messages: [
                    {
                        role: 'user',
                        content: [
                            { type: 'image_url', image_url: { url: good } },
                            { type: 'text', text: 'Is it safe?' },
                        ],
                    },
                ],
            },
            auth,
        ),
        400,
        'invalid_policy',
    );
    const ok = await postJson(url, moderation(good), auth);
    t.equal(ok.status, 200, 'and the server keeps serving');
});

t.test('the API key: missing or wrong is 401; /health needs none', async (t) => {
    const url = `${strict.url}/v1/moderations`;
    const body = moderation(await imageUrl(2));
    await expectError(t, await postJson(url, body), 401, 'invalid_api_key');
    await expectError(t, await postJson(url, body, { authorization: 'Bearer sk-local-tesX' }), 401, 'invalid_api_key');
    await expectError(t, await postJson(url, body, { authorization: KEY }), 401, 'invalid_api_key');
    t.equal((await fetch(`${strict.url}/metrics`)).status, 401);
    const health = await fetch(`${strict.url}/health`);
    t.equal(health.status, 200);
    t.match(await health.json(), { status: 'ok', slots: { total: 2 }, queue: 0 });
    t.equal((await postJson(url, body, auth)).status, 200);
});

t.test('remote image URLs: off by default, never to loopback or private targets', async (t) => {
    const loopbackUrl = `http://127.0.0.1:${imagePort}/image.png`;
    await expectError(
        t,
        await postJson(`${strict.url}/v1/moderations`, moderation(loopbackUrl), auth),
        400,
        'image_url_refused',
    );
    const url = `${remote.url}/v1/moderations`;
    await expectError(t, await postJson(url, moderation(loopbackUrl)), 400, 'image_url_refused');
    await expectError(
        t,
        await postJson(url, moderation(`http://[::1]:${imagePort}/image.png`)),
        400,
        'image_url_refused',
    );
    await expectError(
        t,
        await postJson(url, moderation('http://169.254.169.254/latest/meta-data')),
        400,
        'image_url_refused',
    );
    await expectError(t, await postJson(url, moderation('http://intranet.test/image.png')), 400, 'image_url_refused');
    await expectError(
        t,
        await postJson(url, moderation(`http://images.test:${imagePort}/image.png`)),
        400,
        'image_url_refused',
    );
    t.equal((await postJson(url, moderation(await imageUrl(3)))).status, 200, 'data: URLs still work');
});

t.test('a remote image is fetched from the address that was checked, within its limits', async (t) => {
    const url = `${loopbackAllowed.url}/v1/moderations`;
    // "images.test" exists only in the stub resolver: the connection can only have gone to its checked address.
    const ok = await postJson(url, moderation(`http://images.test:${imagePort}/image.png`));
    t.equal(ok.status, 200, ok.text.slice(0, 200));
    t.equal(ok.json.results.length, 1);
    await expectError(
        t,
        await postJson(url, moderation(`http://images.test:${imagePort}/redirect`)),
        400,
        'image_fetch_failed',
    );
    await expectError(t, await postJson(url, moderation(`http://images.test:${imagePort}/big.png`)), 413);
    await expectError(
        t,
        await postJson(url, moderation(`http://intranet.test:${imagePort}/image.png`)),
        400,
        'image_url_refused',
    );
});

t.test('a full queue answers 429 with Retry-After, then serves again', async (t) => {
    const g = await tinyGuard(1);
    const busy = await serve(g, { queueLimit: 0 });
    t.teardown(async () => {
        await busy.close();
        await g.close();
    });
    const urls = await Promise.all([10, 11, 12].map((s) => imageUrl(s)));
    const answers = await Promise.all(urls.map((u) => postJson(`${busy.url}/v1/moderations`, moderation(u))));
    const refused = answers.filter((a) => a.status === 429);
    t.ok(refused.length >= 1, `${refused.length} of 3 refused`);
    t.equal(answers.filter((a) => a.status === 200).length, 3 - refused.length, 'the others answered');
    for (const r of refused) {
        t.match(r.headers.get('retry-after'), /^\d+$/);
        t.equal(r.json.error.type, 'rate_limit_error');
    }
    t.equal((await postJson(`${busy.url}/v1/moderations`, moderation(urls[0]!))).status, 200);
});

t.test('a client that disconnects mid-stream stops its generation', async (t) => {
    const g = await tinyGuard(1);
    const s = await serve(g);
    t.teardown(async () => {
        await s.close();
        await g.close();
    });
    const before = await metric(s, 'llavaguard_images_total');
    const body = JSON.stringify({
        messages: referenceMessages(await imageUrl(20)),
        temperature: 0,
        max_tokens: 400,
        stream: true,
    });
    await new Promise<void>((resolve, reject) => {
        const req = http.request(`${s.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
        });
        req.on('response', (res) => {
            let seen = 0;
            res.on('data', (chunk: Buffer) => {
                seen += (chunk.toString().match(/"content":"[^"]/g) ?? []).length;
                if (seen >= 3) {
                    req.destroy();
                    resolve();
                }
            });
        });
        req.on('error', (e) => (e.message.includes('socket hang up') ? resolve() : reject(e)));
        req.end(body);
    });
    // Stopped: the slot frees and no verdict is ever counted for it.
    const deadline = Date.now() + 20_000;
    let busyNow = 1;
    while (Date.now() < deadline) {
        busyNow = (await (await fetch(`${s.url}/health`)).json()).slots.busy;
        if (busyNow === 0) break;
        await new Promise((r) => setTimeout(r, 20));
    }
    t.equal(busyNow, 0, 'the slot is free');
    t.equal(await metric(s, 'llavaguard_images_total'), before, 'the generation never finished');
    t.equal((await postJson(`${s.url}/v1/moderations`, moderation(await imageUrl(21)))).status, 200);
});

t.test('a request over the time limit is a 504, its generation stops, the server keeps serving', async (t) => {
    const s = await serve(guard, { timeoutMs: 30 });
    t.teardown(() => s.close());
    const body = { messages: referenceMessages(await imageUrl(30)), temperature: 0, max_tokens: 400 };
    const slow = await postJson(`${s.url}/v1/chat/completions`, body);
    await expectError(t, slow, 504, 'timeout');
    t.equal(slow.json.error.type, 'timeout_error');
    let busy = 1;
    for (const until = Date.now() + 20_000; busy > 0 && Date.now() < until; await new Promise((r) => setTimeout(r, 20)))
        busy = (await (await fetch(`${s.url}/health`)).json()).slots.busy;
    t.equal(busy, 0, 'the slot is free');
    t.equal(await metric(s, 'llavaguard_images_total'), 0, 'the generation was stopped, never finished');
    t.equal((await postJson(`${s.url}/v1/moderations`, moderation(await imageUrl(31)))).status, 504, 'still answering');
});
