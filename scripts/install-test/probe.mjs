// ESM probe, run inside a consumer project: `node probe.mjs '{"model":...,"mmproj":...,"worker":true}'`.
// The named import is what a consumer writes; with "worker", the same runs again in a worker_thread while the
// main thread still holds the addon. Prints one line `PROBE <json>` (llama.cpp may log around it).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { LlavaGuard, Policy } from 'llavaguard';
import core from './probe-core.cjs';

if (isMainThread) {
    const options = JSON.parse(process.argv[2] ?? '{}');
    const results = [await core.probe({ LlavaGuard, Policy }, options)];
    if (options.worker) {
        results.push(
            await new Promise((resolve, reject) => {
                const worker = new Worker(new URL(import.meta.url), { workerData: options });
                worker.once('message', resolve);
                worker.once('error', reject);
                worker.once('exit', (code) => reject(new Error(`worker exited (${code}) without a result`)));
            }),
        );
    }
    console.log(`PROBE ${JSON.stringify(results)}`);
} else {
    parentPort.postMessage(await core.probe({ LlavaGuard, Policy }, workerData));
}
