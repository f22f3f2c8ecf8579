// Child process of test/scan-memory.test.ts: one scan in a fresh process, then its own peak RSS.
// Plain JS so that it runs on dist/ without a TypeScript loader inflating the baseline (or on lib/
// through the loader when dist/ is stale): LLAVAGUARD_LIB names the module.
import { readFileSync } from 'node:fs';

const { LlavaGuard, Policy, scanImages } = await import(process.env.LLAVAGUARD_LIB);
const spec = JSON.parse(process.argv[2]);
const statusKiB = (field) =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))[1]);

const guard = await LlavaGuard.load({ model: spec.model, mmproj: spec.mmproj, threads: 1, sequences: spec.sequences });
const loadedKiB = statusKiB('VmHWM');
const policy = await Policy.load(spec.policy);
const scan = scanImages(guard, spec.source, { ...spec.options, policy, output: spec.output });
let records = 0;
let step = await scan.next();
for (; !step.done; step = await scan.next()) records++;
await guard.close();
// VmHWM: the kernel's high-water mark of this process's resident set, read just before exit
console.log(`SCAN_RSS ${JSON.stringify({ records, summary: step.value, loadedKiB, peakKiB: statusKiB('VmHWM') })}`);
