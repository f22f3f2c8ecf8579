// Replays, through the same fuzz targets `npm run fuzz` runs (scripts/fuzz/targets/), every input a fuzz run found
// that crashed, hung or aborted (test/fixtures/fuzz/TARGET/, one file per finding, named after what it found) and
// every seed: each must end in one of the target's documented errors or be accepted, never in another exception.
// model-files loads what its checks accept in a child process, so a native abort fails its case, not the runner.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { TARGETS, writeSeeds } from '../scripts/fuzz/seeds.js';
import { closeNativeLoader } from '../scripts/fuzz/targets/native-loader.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fuzz');
const seedDir = mkdtempSync(join(tmpdir(), 'fuzz-seeds-'));
t.teardown(() => {
    closeNativeLoader();
    rmSync(seedDir, { recursive: true, force: true });
});

for (const target of TARGETS) {
    t.test(`${target}: every recorded finding and every seed ends in a documented error or is accepted`, async (t) => {
        const { fuzz } = (await import(`../scripts/fuzz/targets/${target}.js`)) as {
            fuzz: (data: Buffer) => Promise<void>;
        };
        const dir = join(fixtures, target);
        const found = existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
        const seeds = join(seedDir, target);
        await writeSeeds(target, seeds);
        const inputs = [...found, ...readdirSync(seeds).map((f) => join(seeds, f))];
        t.ok(inputs.length > 0, `${found.length} findings and ${inputs.length - found.length} seeds`);
        for (const path of inputs) {
            await t.resolves(fuzz(readFileSync(path)), path.slice(path.indexOf(target)));
        }
    });
}
