// The addon in the main thread and in 4 worker_threads at once, each with its own guard, assessing concurrently;
// one worker terminated in the middle of a generation, another ending with its guard still open; then the process
// must exit cleanly (exit code 0, no signal): Node-API cleanup, no use after free at environment teardown.
// Each repetition is a fresh process (test/helpers/worker-threads-child.ts) under --expose-gc.
// LLAVAGUARD_WORKER_REPEATS=20 runs it 20 times in a row (default 2 in `npm test`).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { cachedTestModel } from '../gguf/synthetic/tiny-models.js';
import { spawnTsChild } from './helpers/child-loads.js';

const repeats = Number(process.env.LLAVAGUARD_WORKER_REPEATS ?? 2);
const child = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'worker-threads-child.ts');
// tap's TypeScript loader, so that the child (and its workers, which inherit execArgv) import lib/ from source.
const runOnce = (model: string, mmproj: string) => spawnTsChild(child, [model, mmproj], ['--expose-gc']);

t.test(
    `main thread + 4 worker threads assess concurrently, one terminated mid-generation, and the process exits cleanly (${repeats} runs in a row)`,
    async (t) => {
        const pair = await cachedTestModel('onevision');
        for (let i = 1; i <= repeats; i++) {
            const r = await runOnce(pair.model, pair.mmproj);
            const clean = r.signal === null && r.code === 0 && r.stdout.includes('WORKER_THREADS_OK');
            t.ok(
                clean,
                `run ${i}: exit code ${r.code}, signal ${r.signal}${clean ? '' : `\n${r.stdout.slice(-1000)}\n${r.stderr.slice(-3000)}`}`,
            );
            if (!clean) break;
        }
    },
);
