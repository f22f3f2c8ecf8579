// npm run soak -- --ops N [--json] [--seed S] [--max-rss-growth PCT] [--family onevision|llava15]
// Mixed operations on one tiny-model guard in one process (assess, streams aborted at a random token, score,
// assessPolicies, bad inputs, guard close and reload), sampling RSS and open file descriptors (/proc/self/fd) after
// a GC every ~1% of the run. It fails (exit code 1) when, over the last third of the run, RSS grows by more than
// --max-rss-growth percent (default 2) or the number of open descriptors grows at all: a leak per operation shows
// there as a steady climb, while the first two thirds absorb allocator and cache warm-up.
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cachedTestModel, makeRng, type TinyFamily } from '../../gguf/synthetic/tiny-models.js';
import { LlavaGuard } from '../../lib/guard/LlavaGuard.js';
import { ImageDecodeError } from '../../lib/image/index.js';
import { Policy } from '../../lib/policy/index.js';
import { AbortError } from '../../lib/runtime/errors.js';
import { judgeGrowth, type Sample } from './growth.js';

const { values: opts } = parseArgs({
    options: {
        ops: { type: 'string', default: '1000' },
        json: { type: 'boolean', default: false },
        seed: { type: 'string', default: '1' },
        'max-rss-growth': { type: 'string', default: '2' },
        family: { type: 'string', default: 'onevision' },
    },
});
const ops = Number(opts.ops);
const maxRssGrowthPct = Number(opts['max-rss-growth']);
if (!Number.isInteger(ops) || ops < 30) throw new RangeError(`--ops must be an integer >= 30, got ${opts.ops}`);
const family = opts.family as TinyFamily;
const nextU32 = makeRng(Number(opts.seed), 'soak');
const rng = () => nextU32() / 2 ** 32;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.error('soak: run node with --expose-gc for stable RSS samples');

const files = await cachedTestModel(family);
const load = () => LlavaGuard.load({ ...files, threads: 1, sequences: 2 });
let guard = await load();

/** A deterministic image of a random size (from 8x8 to 96x64). */
function image() {
    const width = 8 + Math.floor(rng() * 89);
    const height = 8 + Math.floor(rng() * 57);
    const data = new Uint8Array(width * height * 3);
    const k = Math.floor(rng() * 256);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + k) & 255;
    return { data, width, height, channels: 3 as const };
}
// Short policies (two categories, a bullet each): the default policy's 3,600-token prompt would make each operation
// a second of prefill on this tiny model and 10,000 operations a day; what leaks is per operation, not per token.
const shortPolicy = (status: 'default' | 'allowed') =>
    Policy.fromJSON({
        version: 'v1.2',
        categories: [
            { id: 'O1', name: 'Hate', shouldNot: ['Insult people.'], can: ['Discuss hate.'] },
            { id: 'O2', name: 'Violence', status, shouldNot: ['Show gore.'], can: ['Show sports.'] },
        ],
    });
const policies = [shortPolicy('default'), shortPolicy('allowed'), shortPolicy('default').sensitive('O1')];
const policy = () => policies[Math.floor(rng() * policies.length)]!;
const BAD_INPUTS: Array<() => unknown> = [
    () => Buffer.from('not an image at all'),
    () => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]),
    () => '/nonexistent/soak-image.png',
    () => ({ data: new Uint8Array(10), width: 4, height: 4, channels: 3 }),
];

const counts: Record<string, number> = {};
const failures: string[] = [];
type Op = [name: string, weight: number, run: () => Promise<void>];
const OPS: Op[] = [
    ['assess', 30, async () => void (await guard.assess(image(), { policy: policy(), maxTokens: 24, seed: 1 }))],
    [
        'stream-aborted',
        20,
        async () => {
            const stopAt = Math.floor(rng() * 6);
            const controller = new AbortController();
            let tokens = 0;
            try {
                for await (const event of guard.assessStream(image(), {
                    policy: policy(),
                    maxTokens: 24,
                    signal: controller.signal,
                })) {
                    if (event.type === 'token' && ++tokens > stopAt) controller.abort();
                }
            } catch (error) {
                if (!(error instanceof AbortError) && (error as Error).name !== 'AbortError') throw error;
            }
        },
    ],
    ['score', 15, async () => void (await guard.score(image(), { policy: policy() }))],
    ['assess-policies', 10, async () => void (await guard.assessPolicies(image(), policies, { maxTokens: 16 }))],
    [
        'bad-input',
        23,
        async () => {
            const bad = BAD_INPUTS[Math.floor(rng() * BAD_INPUTS.length)]!();
            try {
                await guard.assess(bad as never, { policy: policy() });
            } catch (error) {
                if (error instanceof ImageDecodeError || error instanceof TypeError || error instanceof RangeError) {
                    return;
                }
                throw error;
            }
            throw new Error('a bad input was assessed');
        },
    ],
    [
        'close-reload',
        2,
        async () => {
            await guard.close();
            guard = await load();
        },
    ],
];
const totalWeight = OPS.reduce((s, [, w]) => s + w, 0);
function pick(): Op {
    let r = rng() * totalWeight;
    for (const op of OPS) {
        r -= op[1];
        if (r < 0) return op;
    }
    return OPS[0]!;
}

function sample(op: number): Sample {
    gc?.();
    return { op, rssMiB: process.memoryUsage().rss / 2 ** 20, fds: readdirSync('/proc/self/fd').length };
}

const every = Math.max(1, Math.floor(ops / 100));
const samples: Sample[] = [sample(0)];
const started = Date.now();
for (let i = 1; i <= ops; i++) {
    const [name, , run] = pick();
    counts[name] = (counts[name] ?? 0) + 1;
    try {
        await run();
    } catch (error) {
        failures.push(`op ${i} ${name}: ${(error as Error).name}: ${(error as Error).message}`);
        if (failures.length > 20) break;
    }
    if (i % every === 0 || i === ops) samples.push(sample(i));
    if (i % (every * 10) === 0) {
        const s = samples.at(-1)!;
        console.error(`soak: ${i}/${ops} ops, RSS ${s.rssMiB.toFixed(1)} MiB, ${s.fds} fds`);
    }
}
await guard.close();

const verdict = judgeGrowth(samples, { maxRssGrowthPct });
const report = {
    ops,
    seconds: (Date.now() - started) / 1000,
    family,
    counts,
    failures,
    ...verdict,
    pass: verdict.pass && failures.length === 0,
    samples,
};
if (opts.json) console.log(JSON.stringify(report));
else {
    console.log(
        `soak: ${ops} ops in ${report.seconds.toFixed(0)} s (${Object.entries(counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}); last third: RSS ${verdict.lastThird.rssStartMiB.toFixed(1)} -> ` +
            `${verdict.lastThird.rssEndMiB.toFixed(1)} MiB (${verdict.lastThird.rssGrowthPct.toFixed(2)}%, bound ${maxRssGrowthPct}%), ` +
            `fds ${verdict.lastThird.fdsStart} -> ${verdict.lastThird.fdsEnd}; ${failures.length} failed ops; ${report.pass ? 'PASS' : 'FAIL'}`,
    );
    for (const f of failures) console.log(`  ${f}`);
    for (const r of verdict.reasons) console.log(`  ${r}`);
}
process.exitCode = report.pass ? 0 : 1;
