// The product promises that nothing leaves the machine. The CLI's demo, assess, scan, report and eval run here
// (1) inside a network namespace with no interface but loopback (`unshare -n`, as root; skipped with the reason
// where it is not permitted) and (2) with test/helpers/no-network.cjs preloaded in every process (NODE_OPTIONS),
// which records and refuses any outbound connect, UDP send or DNS query, so that a code path that tries and
// swallows the error still fails this test. Each command must succeed and the record must stay empty. The hook
// itself is checked first: it must catch a fetch to a remote host and let a loopback connect through.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', 'dist', 'lib', 'cli', 'main.js');
const hook = join(import.meta.dirname, 'helpers', 'no-network.cjs');
// A new network namespace has only `lo`, and it is down: bring it up so that loopback works as on any machine.
const NAMESPACE = ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];
const unshare = spawnSync(NAMESPACE[0]!, [...NAMESPACE.slice(1), 'true']);
const namespaceSkip =
    unshare.error || unshare.status !== 0
        ? `unshare -n is not permitted here (${unshare.error?.message ?? unshare.stderr.toString().trim()}); the commands run with the connection hook only`
        : undefined;

/** Runs a node script in the namespace (when permitted) with the hook, logging attempts to `log`. */
function offline(args: string[], log: string, env: NodeJS.ProcessEnv = {}) {
    const node = [process.execPath, ...args];
    const [cmd, ...argv] = namespaceSkip ? node : [...NAMESPACE, ...node];
    return run(cmd!, argv, {
        env: {
            ...process.env,
            LLAVAGUARD_THREADS: '1',
            NODE_OPTIONS: `--require ${hook}`,
            LLAVAGUARD_NETWORK_LOG: log,
            ...env,
        },
        maxBuffer: 1 << 24,
    }).then(
        (r) => ({ code: 0, ...r }),
        (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
    );
}
const attempts = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8') : '');

t.test('the hook records and refuses a remote fetch and lets a loopback connect through', async (t) => {
    const dir = t.testdir({});
    const log = join(dir, 'network.log');
    const probe = join(dir, 'probe.cjs');
    writeFileSync(
        probe,
        `const net = require('node:net');
fetch('http://example.com/x').then(() => console.log('FETCHED'), (e) => console.log('REFUSED', e.cause?.code ?? e.code));
net.connect(9, '127.0.0.1').on('error', (e) => console.log('LOOPBACK', e.code));`,
    );
    const r = await offline([probe], log);
    t.match(r.stdout, /REFUSED ERR_LLAVAGUARD_OFFLINE/, 'the remote fetch is refused by the hook');
    t.match(r.stdout, /LOOPBACK ECONNREFUSED/, 'the loopback connect reaches the (closed) port');
    t.match(attempts(log), /connect to example\.com:80/, 'and recorded');
});

t.test(
    'demo, assess, scan, report and eval work offline and open no outbound connection',
    { skip: existsSync(bin) ? false : 'dist/ is not built (npm run build)' },
    async (t) => {
        if (namespaceSkip) t.comment(namespaceSkip);
        const pair = await cachedTestModel('onevision');
        const dir = t.testdir({ images: {} });
        const log = join(dir, 'network.log');
        const images = join(dir, 'images');
        for (const [name, colour] of [
            ['red.png', '#c33'],
            ['blue.jpg', '#33c'],
        ] as const) {
            await sharp({ create: { width: 40, height: 30, channels: 3, background: colour } }).toFile(
                join(images, name),
            );
        }
        const manifest = join(dir, 'eval.jsonl');
        writeFileSync(
            manifest,
            `${JSON.stringify({ path: 'images/red.png', rating: 'Unsafe', category: 'O2' })}\n${JSON.stringify({ path: 'images/blue.jpg', rating: 'Safe' })}\n`,
        );
        const model = ['--model', pair.model, '--mmproj', pair.mmproj, '--threads', '1', '--max-tokens', '40'];
        const results = join(dir, 'scan.jsonl');
        const commands: Array<[string, string[], NodeJS.ProcessEnv?]> = [
            ['demo', ['demo'], { LLAVAGUARD_CACHE: join(dir, 'cache') }],
            ['assess', ['assess', join(images, 'red.png'), ...model, '--json']],
            ['scan', ['scan', images, ...model, '--out', results]],
            ['report', ['report', results, '--out', join(dir, 'report')]],
            ['eval', ['eval', manifest, ...model, '--out', join(dir, 'eval'), '--resamples', '50']],
        ];
        for (const [name, args, env] of commands) {
            const r = await offline([bin, ...args], log, env);
            t.equal(r.code, 0, `${name} exits 0${r.code ? `\n${r.stderr.slice(-2000)}` : ''}`);
        }
        t.ok(existsSync(join(dir, 'report', 'index.html')), 'the report was written');
        t.ok(existsSync(join(dir, 'eval', 'metrics.json')), 'the evaluation was written');
        t.equal(readFileSync(results, 'utf8').trim().split('\n').length, 2, 'two scan records');
        t.equal(attempts(log), '', 'no outbound connection or DNS query was attempted');
    },
);
