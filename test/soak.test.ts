// The soak's short form (scripts/soak/soak.ts, `npm run soak -- --ops N`): 300 mixed operations on one tiny-model
// guard in one process (assess, streams aborted at a random token, score, assessPolicies, bad inputs, close and
// reload) must all succeed or fail as documented, with no open file descriptor gained over the last third of the
// run and RSS there within 5% (the 10,000-operation run in BENCHMARKS.md holds the 2% bound; 100 operations are
// too few for the allocator to settle that finely). The growth rule itself is checked on made-up samples.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { judgeGrowth } from '../scripts/soak/growth.js';
import { spawnTsChild } from './helpers/child-loads.js';

const soak = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'soak', 'soak.ts');

t.test('300 mixed operations: no failed operation, no fd growth and RSS within 5% over the last third', async (t) => {
    const r = await spawnTsChild(soak, ['--ops', '300', '--json', '--max-rss-growth', '5'], ['--expose-gc']);
    t.equal(r.signal, null, 'no signal');
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
    t.same(report.failures, [], 'every operation succeeded or failed as documented');
    t.ok(report.counts['close-reload'] >= 1 || report.counts['bad-input'] >= 1, JSON.stringify(report.counts));
    t.equal(report.lastThird.fdGrowth, 0, `fds ${report.lastThird.fdsStart} -> ${report.lastThird.fdsEnd}`);
    t.ok(report.lastThird.rssGrowthPct <= 5, `RSS ${report.lastThird.rssGrowthPct.toFixed(2)}% over the last third`);
    t.equal(report.pass, true, report.reasons?.join('; ') || 'pass');
    t.equal(r.code, 0, `exit code ${r.code}\n${r.stderr.slice(-2000)}`);
});

t.test('the growth rule fails a steady RSS climb and a leaked descriptor, and passes noise', async (t) => {
    const run = (rss: (i: number) => number, fds: (i: number) => number) =>
        Array.from({ length: 31 }, (_, i) => ({ op: i * 10, rssMiB: rss(i), fds: fds(i) }));
    const flat = judgeGrowth(
        run(
            (i) => 200 + (i % 3) * 0.5,
            () => 25,
        ),
        { maxRssGrowthPct: 2 },
    );
    t.equal(flat.pass, true, 'noise of 0.5 MiB passes');
    const climbing = judgeGrowth(
        run(
            (i) => 200 + i * 1.5,
            () => 25,
        ),
        { maxRssGrowthPct: 2 },
    );
    t.equal(climbing.pass, false, climbing.reasons.join('; '));
    const leaking = judgeGrowth(
        run(
            () => 200,
            (i) => 25 + Math.floor(i / 25),
        ),
        { maxRssGrowthPct: 2 },
    );
    t.match(leaking.reasons.join(';'), /descriptors grew from 25 to 26/);
});
