// `llavaguard serve` in a child process: SIGTERM while a request streams stops accepting, lets that request
// finish, then the process exits 0.
import { spawn } from 'node:child_process';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { imageUrl, referenceMessages } from './helpers/server-fixtures.js';

const tsLoader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));

t.test(
    'serve --parallel and --context-size shape its slots; SIGTERM mid-request: the request completes, new ones are refused, the process exits 0',
    async (t) => {
        const files = await cachedTestModel('onevision');
        const child = spawn(
            process.execPath,
            [
                ...tsLoader,
                'lib/cli/main.ts',
                'serve',
                '--model',
                files.model,
                '--mmproj',
                files.mmproj,
                '--port',
                '0',
                '--parallel',
                '2',
                '--context-size',
                '3072',
                '--threads',
                '1',
                '--no-log',
            ],
            {
                env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', LLAVAGUARD_THREADS: '1' },
                stdio: ['ignore', 'pipe', 'pipe'],
            },
        );
        let stderr = '';
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
            child.on('close', (code, signal) => resolve({ code, signal })),
        );
        const base = await new Promise<string>((resolve, reject) => {
            child.stderr.on('data', (d) => {
                stderr += d;
                const m = /serving .* on (http:\/\/[^\s]+)/.exec(stderr);
                if (m) resolve(m[1]!);
            });
            child.on('close', () => reject(new Error(`the server exited before listening:\n${stderr}`)));
        });
        t.teardown(() => {
            if (child.exitCode === null) child.kill('SIGKILL');
        });

        const health = (await (await fetch(`${base}/health`)).json()) as { slots: { total: number; context: number } };
        t.same(
            health.slots,
            { total: 2, busy: 0, context: 3072 },
            '--parallel and --context-size: 2 slots of 3072 tokens',
        );

        const body = {
            model: 'llavaguard',
            messages: referenceMessages(await imageUrl(5)),
            temperature: 0,
            max_tokens: 200,
            stream: true,
        };
        const response = await fetch(`${base}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
        });
        t.equal(response.status, 200);
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        let text = '';
        let signalled = false;
        for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            text += decoder.decode(value, { stream: true });
            if (!signalled && text.includes('"content":"{')) {
                signalled = true;
                child.kill('SIGTERM'); // mid-generation: its first tokens are out
                await new Promise((r) => setTimeout(r, 200));
                const refused = await fetch(`${base}/health`).catch((error: Error) => error);
                t.ok(refused instanceof Error || refused.status === 503, 'a new request after SIGTERM is not served');
            }
        }
        t.ok(signalled, 'SIGTERM was sent while the answer streamed');
        t.match(text, /"finish_reason":"(stop|length)"/, 'the running request finished');
        t.ok(text.trimEnd().endsWith('data: [DONE]'), 'its stream was completed');
        const { code, signal } = await exited;
        t.equal(signal, null);
        t.equal(code, 0, `exit code 0 (stderr: ${stderr.slice(-500)})`);
    },
);
