import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';

// The tiny test models run fastest on one thread (also in the CLI processes spawned here).
process.env.LLAVAGUARD_THREADS ??= '1';

const run = promisify(execFile);
// The CLI as users run it: the compiled bin (npm's prepare step builds dist/).
const bin = join(import.meta.dirname, '..', 'dist', 'lib', 'cli', 'main.js');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 24 }).then(
        (r) => ({ code: 0, ...r }),
        (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
    );

t.test('assess --json prints one JSON line per image and an error line for a bad one, exit code 2', async (t) => {
    const pair = await cachedTestModel('onevision');
    const dir = t.testdir({ 'broken.jpg': 'not really a jpeg' });
    const good = join(dir, 'good.png');
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c33' } })
        .png()
        .toFile(good);
    const policy = join(dir, 'policy.json');
    const { Policy } = await import('../lib/policy/index.js');
    await Policy.default('v1.2').allow('O6').save(policy);
    await writeFile(join(dir, 'note.txt'), 'text');
    const r = await cli([
        'assess',
        good,
        join(dir, 'broken.jpg'),
        good,
        '--model',
        pair.model,
        '--mmproj',
        pair.mmproj,
        '--policy',
        policy,
        '--sensitive',
        'O3',
        '--seed',
        '3',
        '--max-tokens',
        '60',
        '--json',
    ]);
    t.equal(r.code, 2, 'non-zero exit when an image failed');
    const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    t.equal(lines.length, 3);
    t.match(lines[0], { path: good, rating: /^(Safe|Unsafe)$/, category: String, policyHash: String });
    t.match(lines[1], { path: join(dir, 'broken.jpg'), error: /./ });
    t.equal(
        lines[2].policyHash,
        Policy.default('v1.2').allow('O6').sensitive('O3').hash,
        'the CLI policy options compose',
    );
});

t.test('demo makes its model and images and prints verdicts with the random-weights warning', async (t) => {
    const cache = t.testdir({});
    const r = await cli(['demo'], { LLAVAGUARD_CACHE: cache });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /RANDOM WEIGHTS/);
    t.equal((r.stdout.match(/^(UNSAFE|safe)\s/gm) ?? []).length, 3, 'three verdicts');
});

t.test('every command has --help and bad arguments are explained', async (t) => {
    for (const args of [
        ['--help'],
        ['assess', '--help'],
        ['demo', '--help'],
        ['gguf', 'inspect', '--help'],
        ['gguf', 'make-test-model', '--help'],
    ]) {
        const r = await cli(args);
        t.equal(r.code, 0, args.join(' '));
        t.match(r.stdout, /Usage: llavaguard/);
    }
    const bad = await cli(['assess', 'x.png', '--model', 'm', '--mmproj', 'p', '--seed', 'abc']);
    t.not(bad.code, 0);
    t.match(bad.stderr, /--seed must be an integer/);
    const fa = await cli(['assess', 'x.png', '--model', 'm', '--mmproj', 'p', '--flash-attention', 'maybe']);
    t.not(fa.code, 0);
    t.match(fa.stderr, /--flash-attention must be one of on, off, auto/);
    const missing = await cli(['assess', 'x.png', '--model', '/nope/m.gguf', '--mmproj', '/nope/p.gguf']);
    t.equal(missing.code, 1);
    t.match(missing.stderr, /does not exist/);
});

t.test('gguf make-test-model and gguf inspect work on any GGUF', async (t) => {
    const dir = t.testdir({});
    const made = await cli(['gguf', 'make-test-model', '--family', 'llava15', '--out', dir, '--type', 'q8_0']);
    t.equal(made.code, 0, made.stderr);
    const info = await cli(['gguf', 'inspect', join(dir, 'mmproj.gguf')]);
    t.equal(info.code, 0, info.stderr);
    t.match(info.stdout, /clip\.projector_type/);
    t.match(info.stdout, /mm\.2\.weight/);
    const bad = await cli(['gguf', 'inspect', join(dir, 'nothing.gguf')]);
    t.not(bad.code, 0);
});
