// Child process of scripts/bench/scan.ts: one way of rating a collection, in a fresh process, so that each
// way's peak RSS is its own. Loads the guard (untimed), then times either scanImages over the folder or a
// loop of single `await guard.assess(file)` calls over the same sorted files, and prints one JSON line
// prefixed with BENCH_RESULT (scripts/bench/common.ts runChild).
//
//   node --import @tapjs/typescript/import scripts/bench/scan-run.ts '<json spec>'

import { LlavaGuard } from '../../lib/guard/LlavaGuard.js';
import { Policy } from '../../lib/policy/index.js';
import { isVerdict, listImages, scanImages } from '../../lib/scan/index.js';
import { type ChildMeasures, childResult, childSpec, selfStatusMiB, timedLoad } from './common.js';

export interface ScanRunSpec {
    mode: 'scan' | 'assess-loop';
    model: string;
    mmproj: string;
    folder: string;
    /** JSONL output of the scan (a fresh file); unused by the loop */
    output: string;
    sequences: number;
    threads: number;
    /** Policy JSON; undefined: the policy the model was trained with */
    policyFile?: string;
    /** Keep only the policy's first category (a ~1k-token prompt instead of ~3.6k): quicker smoke runs */
    shortPolicy?: boolean;
    seed: number;
    maxRationaleChars: number;
    maxTokens: number;
}

export interface ScanRunResult extends ChildMeasures {
    images: number;
    /** rating per path, to compare the ways */
    ratings: Record<string, string>;
    errors: number;
    loadedRssMiB: number;
}

/** node + the TypeScript loader + our modules, before the addon loads a model */
const baseRssMiB = selfStatusMiB('VmRSS');

const spec = childSpec<ScanRunSpec>();
const { loaded: guard, loadMs } = await timedLoad(() =>
    LlavaGuard.load({ model: spec.model, mmproj: spec.mmproj, threads: spec.threads, sequences: spec.sequences }),
);
const loadedRssMiB = selfStatusMiB('VmHWM');
let policy = spec.policyFile ? await Policy.load(spec.policyFile) : guard.defaultPolicy;
if (spec.shortPolicy) policy = policy.remove(...policy.categories.slice(1).map((c) => c.id));
const options = { policy, seed: spec.seed, maxRationaleChars: spec.maxRationaleChars, maxTokens: spec.maxTokens };

const ratings: Record<string, string> = {};
let errors = 0;
const c1 = process.cpuUsage();
const t1 = performance.now();
if (spec.mode === 'scan') {
    for await (const record of scanImages(guard, spec.folder, { ...options, output: spec.output })) {
        if (isVerdict(record)) ratings[record.path] = record.rating;
        else errors++;
    }
} else {
    // the same list the scan makes (sorted, found by content), so both rate the same images in the same order
    for (const entry of await listImages(spec.folder)) {
        try {
            ratings[entry.path] = (await guard.assess(entry.file, options)).rating;
        } catch {
            errors++;
        }
    }
}
const wallMs = performance.now() - t1;
const cpu = process.cpuUsage(c1);
await guard.close();

const result: ScanRunResult = {
    images: Object.keys(ratings).length + errors,
    ratings,
    errors,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    loadMs,
    baseRssMiB,
    loadedRssMiB,
    peakRssMiB: selfStatusMiB('VmHWM'),
};
childResult(result);
