// The scan's memory bound (issue #4): memory must not grow with the size of the collection. Two collections,
// N and 10N distinct images, each scanned in a fresh child process with the same model and options; each child
// reports its own peak RSS (VmHWM) just before it exits.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { Policy } from '../lib/index.js';
import { patternImage } from './helpers/models.js';

// ~0.3 s an image on the tiny model (one core): 24 + 240 images take ~2 min, more on a busy machine. The files
// are JPEGs of 360-1280 px (~180 KB; decoded at full resolution, 1-4 MB each), so that keeping anything of
// each image's size shows: a decoded picture per image would add ~400 MB, the file bytes ~39 MB, against a
// 20% margin of ~45 MiB on a ~230 MiB process. The records the scan keeps for duplicate detection (~1 KB an
// image, by design) are below what this can see.
const N = 24;
const LARGE = 10 * N;
const MARGIN = 1.2;
// Sizes repeat with a period dividing N: the images in flight together (read-ahead + parallel slots, ~7) are
// then the same mixes in both collections, so the large scan's peak is not just the worst of more mixes.
const SIZES = [
    [1280, 960],
    [480, 360],
    [960, 1280],
    [640, 480],
    [1024, 768],
    [800, 600],
    [360, 480],
    [1280, 720],
] as const;

const here = import.meta.dirname;
const root = await mkdtemp(join(tmpdir(), 'llavaguard-scan-memory-'));
t.teardown(() => rm(root, { recursive: true, force: true }));

// dist/ when it is newer than every lib/ source (`npx tsc`); else lib/ through the TypeScript loader, which
// works too but adds ~200 MiB of its own to both figures (a looser bound) and takes minutes longer.
const libDir = join(here, '..', 'lib');
const distOf = (rel: string) => join(here, '..', 'dist', 'lib', rel.replace(/\.ts$/, '.js'));
const sources = (readdirSync(libDir, { recursive: true }) as string[]).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.d.ts'),
);
const distFresh = sources.every(
    (f) => existsSync(distOf(f)) && statSync(distOf(f)).mtimeMs >= statSync(join(libDir, f)).mtimeMs,
);
const tsLoader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
const libModule = distFresh || tsLoader.length === 0 ? distOf('index.ts') : join(libDir, 'index.ts');

/** 10N distinct JPEGs in large/, the first N of them hard-linked into small/: the same files, 10x fewer. */
async function makeCollections() {
    const small = join(root, 'small');
    const large = join(root, 'large');
    await mkdir(small);
    await mkdir(large);
    for (let i = 0; i < LARGE; i++) {
        const [width, height] = SIZES[i % SIZES.length]!;
        const img = patternImage(width, height, i);
        const name = `img${String(i).padStart(4, '0')}.jpg`;
        await sharp(Buffer.from(img.data), { raw: { width, height, channels: 3 } })
            .jpeg({ quality: 90 })
            .toFile(join(large, name));
        if (i < N) await link(join(large, name), join(small, name));
    }
    return { small, large };
}

interface ChildReport {
    records: number;
    summary: { total: number; assessed: number; errors: number };
    loadedKiB: number;
    peakKiB: number;
}

/** One scan in a fresh process (test/helpers/scan-rss-child.mjs); its report, or a rejection with its stderr. */
function scanInChild(spec: object): Promise<ChildReport> {
    // without tap's NODE_OPTIONS: its process-info hook would be measured too (~20 MiB more, and more in a longer run)
    const { NODE_OPTIONS: _tapHooks, ...env } = process.env;
    const child = spawn(
        process.execPath,
        [
            ...(libModule.endsWith('.ts') ? tsLoader : []),
            join(here, 'helpers', 'scan-rss-child.mjs'),
            JSON.stringify(spec),
        ],
        {
            env: { ...env, LLAVAGUARD_LIB: libModule, LLAVAGUARD_THREADS: '1', TS_NODE_TRANSPILE_ONLY: '1' },
            stdio: ['ignore', 'pipe', 'pipe'],
        },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code, signal) => {
            const line = stdout.split('\n').find((l) => l.startsWith('SCAN_RSS '));
            if (code !== 0 || !line)
                reject(new Error(`scan child exited with ${code ?? signal}:\n${stderr.slice(-4000)}`));
            else resolve(JSON.parse(line.slice('SCAN_RSS '.length)) as ChildReport);
        });
    });
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

t.test(
    `peak RSS of a scan of a 10x larger collection (${LARGE} vs ${N} images) stays within 20% of the small one`,
    async (t) => {
        t.comment(`children run ${libModule}`);
        const { small, large } = await makeCollections();
        const policyFile = join(root, 'policy.json');
        // one category keeps the prompt ~1k tokens (the full policy is ~3.6k): the test is about memory, not speed
        await Policy.default('v1.2').remove('O2', 'O3', 'O4', 'O5', 'O6', 'O7', 'O8', 'O9').save(policyFile);
        const pair = await cachedTestModel('onevision');
        // the same everything but the folder: model, two sequence slots (so the parallel window is exercised), read-ahead
        const spec = (source: string, output: string) => ({
            model: pair.model,
            mmproj: pair.mmproj,
            sequences: 2,
            policy: policyFile,
            source,
            output,
            options: { seed: 7, maxRationaleChars: 10, maxTokens: 60, parallel: 2, prefetch: 4 },
        });

        const a = await scanInChild(spec(small, join(root, 'small.jsonl')));
        const b = await scanInChild(spec(large, join(root, 'large.jsonl')));
        for (const [r, n] of [
            [a, N],
            [b, LARGE],
        ] as const) {
            t.match(
                r,
                { records: n, summary: { total: n, assessed: n, errors: 0 } },
                `${n} images: each assessed, no errors`,
            );
        }
        t.comment(
            `peak RSS: ${N} images ${mib(a.peakKiB)} MiB, ${LARGE} images ${mib(b.peakKiB)} MiB (ratio ${(b.peakKiB / a.peakKiB).toFixed(3)})`,
        );
        t.comment(`after loading the model (before the scan): ${mib(a.loadedKiB)} MiB and ${mib(b.loadedKiB)} MiB`);
        t.ok(b.peakKiB <= MARGIN * a.peakKiB, `${mib(b.peakKiB)} MiB <= ${MARGIN} x ${mib(a.peakKiB)} MiB`);
    },
);
