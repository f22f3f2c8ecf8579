// --gpu on the CLI: where the model runs is chosen at run time and said in every --json line.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';

process.env.LLAVAGUARD_THREADS ??= '1';
const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', 'dist', 'lib', 'cli', 'main.js');
const cli = (args: string[]) =>
    run(process.execPath, [bin, ...args], { maxBuffer: 1 << 24 }).then(
        (r) => ({ code: 0, ...r }),
        (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
    );

t.test('assess --json --gpu cpu says the backend and the device that ran each verdict', async (t) => {
    const pair = await cachedTestModel('onevision');
    const image = join(t.testdir(), 'red.png');
    await sharp({ create: { width: 24, height: 24, channels: 3, background: '#c33' } })
        .png()
        .toFile(image);
    const r = await cli(['assess', image, '-m', pair.model, '--mmproj', pair.mmproj, '--gpu', 'cpu', '--json']);
    t.equal(r.code, 0, r.stderr);
    const line = JSON.parse(r.stdout.trim().split('\n')[0]!);
    t.equal(line.backend, 'cpu');
    t.match(line.device, /\S/, `device: ${line.device}`);
});

t.test('--gpu takes only the known backends, and an unavailable one is a clear error', async (t) => {
    const pair = await cachedTestModel('onevision');
    const bad = await cli(['assess', 'x.png', '-m', pair.model, '--mmproj', pair.mmproj, '--gpu', 'tpu']);
    t.not(bad.code, 0);
    t.match(bad.stderr, /--gpu must be one of auto, cpu, cuda, vulkan, metal/);
    const image = join(t.testdir(), 'red.png');
    await sharp({ create: { width: 24, height: 24, channels: 3, background: '#c33' } })
        .png()
        .toFile(image);
    // No CUDA driver on the test machines: asking for it explicitly fails with the reason (auto would fall back).
    const cuda = await cli(['assess', image, '-m', pair.model, '--mmproj', pair.mmproj, '--gpu', 'cuda']);
    if (cuda.code === 0) {
        t.pass('this machine runs CUDA');
        return;
    }
    t.match(cuda.stderr, /gpu 'cuda' is not available: /);
    t.notMatch(cuda.stderr, /^\s+at /m, 'no stack trace');
});
