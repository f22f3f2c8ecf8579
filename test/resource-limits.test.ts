// Resource limits end in clear errors, before or instead of an abort, and leave things usable:
// - a projector whose output width does not fit the text model (tiny pairs of mismatched widths) is refused by
//   the model-file checks, in a child process so that a regression shows as a signal, not a dead runner;
// - a KV cache that cannot be allocated: under an address-space limit llama.cpp's allocation fails, createContext
//   rejects with llama.cpp's reason and the model still runs; without such a limit Linux overcommits and the
//   cache's clear would bring the OOM killer, so checkKvCacheFits prices the cache first (ResourceLimitError);
// - the disk filling up while a scan writes (a 64 KiB tmpfs, mounted as root; skipped where mount is not
//   permitted): the scan stops with a ScanOutputError (ENOSPC), the records written stay whole lines, and the
//   guard goes on assessing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { LlavaGuard } from '../lib/guard/LlavaGuard.js';
import { Policy } from '../lib/policy/index.js';
import { readExistingLines, ScanOutputError, scanImages } from '../lib/scan/index.js';
import { VisionModel } from '../lib/runtime/VisionModel.js';
import {
    availableMemoryBytes,
    checkKvCacheFits,
    kvCacheBytes,
    kvShapeFromMetadata,
    ResourceLimitError,
} from '../lib/runtime/validate/kv-cache.js';
import { loadInChildren } from './helpers/child-loads.js';

const ov = await cachedTestModel('onevision'); // qwen2 192 wide; its projector outputs 192
const lv = await cachedTestModel('llava15'); // llama 128 wide; its projector outputs 128

t.test('a projector whose width does not fit the text model is refused before llama.cpp loads it', async (t) => {
    const outcomes = await loadInChildren([
        { name: 'narrow-model-wide-projector', model: lv.model, mmproj: ov.mmproj },
        { name: 'wide-model-narrow-projector', model: ov.model, mmproj: lv.mmproj },
    ]);
    for (const [name, widths] of [
        ['narrow-model-wide-projector', [192, 128]],
        ['wide-model-narrow-projector', [128, 192]],
    ] as const) {
        const o = outcomes.get(name)!;
        t.equal(o.signal ?? null, null, `${name}: no signal`);
        t.equal(o.result?.error, 'ModelLoadError', name);
        t.match(
            o.result?.message,
            new RegExp(`projector outputs ${widths[0]}-wide embeddings but the text model .* is ${widths[1]} wide`),
        );
    }
});

t.test(
    'a KV cache the address space cannot hold: createContext rejects with the reason, the model still runs',
    async (t) => {
        const child = join(import.meta.dirname, 'helpers', 'kv-limit-child.ts');
        // 3 GiB of address space: room for node and the model, not for the 4 GiB cache of 4,194,304 cells.
        const r = spawnSync(
            'sh',
            ['-c', 'ulimit -v 3000000 && exec "$0" "$@"', process.execPath, ...tsArgs(), child, '4194304'],
            { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', LLAVAGUARD_THREADS: '1' }, encoding: 'utf8' },
        );
        t.equal(r.signal, null, `no signal\n${r.stderr.slice(-2000)}`);
        const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
        t.match(out.large, {
            created: false,
            message: /failed to create a context.*(insufficient memory|failed to allocate)/s,
        });
        t.match(out.after, { generated: Number }, 'a small context on the same model still generates');
        // The price the check puts on that cache is what llama.cpp tried to allocate ("attempted to allocate 4096.00 MB").
        const shape = kvShapeFromMetadata(out.metadata);
        t.equal(kvCacheBytes(shape, { contextSize: 4194304 }), 4096 * 2 ** 20, JSON.stringify(shape));
        t.throws(() => checkKvCacheFits(shape, { contextSize: 4194304 }, 3 * 2 ** 30), ResourceLimitError);
    },
);

t.test(
    'checkKvCacheFits refuses a cache larger than the memory available, with the sizes and what to change',
    async (t) => {
        const shape = { nLayer: 28, nEmbdK: 512, nEmbdV: 512 }; // a 7B qwen2: 4 KV heads of 128
        const err = t.throws(() =>
            checkKvCacheFits(shape, { contextSize: 1 << 20 }, 16 * 2 ** 30),
        ) as ResourceLimitError;
        t.ok(err instanceof ResourceLimitError && err instanceof RangeError, 'a ResourceLimitError (a RangeError)');
        t.match(err, { resource: 'memory', neededBytes: 56 * 2 ** 30, availableBytes: 16 * 2 ** 30 });
        t.match(
            err.message,
            /1048576 tokens needs 57344 MiB of KV cache .* more than the 16384 MiB .* smaller contextSize/,
        );
        t.equal(checkKvCacheFits(shape, { contextSize: 4096 }, 16 * 2 ** 30), 224 * 2 ** 20, 'a 4k context fits');
        t.equal(
            checkKvCacheFits(shape, { contextSize: 1 << 20, cacheTypeK: 'q8_0', cacheTypeV: 'q8_0' }, 32 * 2 ** 30),
            Math.ceil(56 * 2 ** 30 * (34 / 32 / 2)),
            'a q8_0 cache costs 34/64 of f16',
        );
    },
);

t.test('disk full while a scan writes: ScanOutputError, whole lines kept, the guard still assesses', async (t) => {
    const mnt = mkdtempSync(join(tmpdir(), 'scan-full-'));
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    if (mount.status !== 0) {
        rmSync(mnt, { recursive: true, force: true });
        t.skip(`mounting a tmpfs is not permitted here: ${mount.stderr?.toString().trim() || mount.error?.message}`);
        return;
    }
    t.teardown(() => {
        spawnSync('umount', [mnt]);
        rmSync(mnt, { recursive: true, force: true });
    });
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(60 * 1024)); // 15 of the 16 pages: about 4 KiB left
    const images = join(t.testdir({}), 'images');
    mkdirSync(images);
    for (let i = 0; i < 12; i++) {
        await sharp({
            create: { width: 24, height: 24, channels: 3, background: { r: i * 20, g: 99, b: 255 - i * 20 } },
        })
            .png()
            .toFile(join(images, `img-${String(i).padStart(2, '0')}.png`));
    }
    const policy = Policy.fromJSON({
        version: 'v1.2',
        categories: [{ id: 'O1', name: 'Hate', shouldNot: ['Insult people.'], can: ['Discuss hate.'] }],
    });
    await using guard = await LlavaGuard.load({ ...lv, threads: 1 });
    const output = join(mnt, 'scan.jsonl');
    const yielded: unknown[] = [];
    let error: unknown;
    try {
        for await (const record of scanImages(guard, images, { output, policy, maxTokens: 24, seed: 1 })) {
            yielded.push(record);
        }
    } catch (e) {
        error = e;
    }
    t.ok(error instanceof ScanOutputError, `the scan stopped with a ScanOutputError: ${error}`);
    t.match(error, { code: 'ENOSPC', path: output, message: /no space left on the device \(ENOSPC\)/ });
    t.ok(yielded.length >= 1 && yielded.length < 12, `${yielded.length} records were written before the disk filled`);
    const kept = await readExistingLines(output);
    t.equal(kept.values.length, yielded.length, 'every record yielded is a whole line of the output');
    const after = await guard.assess(
        { data: new Uint8Array(16 * 16 * 3).fill(80), width: 16, height: 16, channels: 3 },
        { policy },
    );
    t.match(after, { rating: /^(Safe|Unsafe)$/ }, 'the guard still assesses');
});

/** tap's TypeScript loader, for the child. */
function tsArgs(): string[] {
    return process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
}

t.test('createContext refuses a KV cache larger than the memory available before llama.cpp allocates it', async (t) => {
    const model = await VisionModel.load({ model: ov.model, mmproj: ov.mmproj });
    t.teardown(() => model.close());
    const shape = kvShapeFromMetadata(model.info.metadata);
    // Cells for twice the memory available now: the allocation would succeed under overcommit and the clear kill us.
    const cells = Math.ceil((2 * availableMemoryBytes()) / kvCacheBytes(shape, { contextSize: 256 })) * 256;
    await t.rejects(model.createContext({ contextSize: cells }), ResourceLimitError, 'a ResourceLimitError');
    const context = await model.createContext({ contextSize: 512 });
    t.ok(context.info, 'a context that fits is still created');
    await context.close();
});
