// runEval: assesses every (image, policy) of a labelled set, optionally augmented with policy
// exceptions, and writes into `out`:
//   records.jsonl  one EvalRecord a line, appended as the assessments finish
//   metrics.json   computeMetrics over all records (EvalMetrics)
//   report.html    renderReport of the metrics and the misclassified records
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Assessment, AssessOptions, ImageInput, ScoreOptions, ScoreResult } from '../guard/types.js';
import { Policy } from '../policy/index.js';
import type { Rating } from '../verdict/index.js';
import { augment, type ExceptionKind, type SampleKind } from './augment.js';
import { loadManifest, type EvalSample, type Score } from './manifest.js';
import { computeMetrics, type EvalMetrics, type Outcome } from './metrics.js';
import { renderReport } from './report-html.js';

/** What runEval needs of a guard: a LlavaGuard, or a stand-in in tests. */
export interface EvalGuard {
    assess(image: ImageInput, options?: AssessOptions): Promise<Assessment>;
    /** Needed for RunEvalOptions.score (LlavaGuard.score: P(Unsafe) from the logits). */
    score?(image: ImageInput, options?: ScoreOptions): Promise<ScoreResult>;
    readonly defaultPolicy?: Policy;
    readonly modelInfo?: { readonly name: string };
}

export interface RunEvalOptions {
    /** Folder for metrics.json, records.jsonl and report.html (created). */
    out: string;
    /** Policy-exception augmentation. Default 'none'. */
    augment?: 'none' | 'paper';
    /** Variants added by 'paper'. Default ['v2', 'v4']. */
    kinds?: readonly ExceptionKind[];
    /** Seed of the augmentation, of every assessment and of the bootstrap. Default 0. */
    seed?: number;
    /** The policy the labels refer to. Default guard.defaultPolicy, else Policy.default('v1.2'). */
    basePolicy?: Policy;
    /** Only the samples of this split. */
    split?: string;
    /** Bootstrap resamples. Default 1000. */
    resamples?: number;
    /** How unparseable outputs and failed assessments count. Default 'wrong'. */
    invalid?: 'wrong' | 'exclude';
    /** Further assessment options (temperature, maxTokens, ...). */
    assess?: Omit<AssessOptions, 'policy' | 'seed' | 'signal'>;
    /**
     * Also read P(Unsafe) with guard.score for every (image, policy) and record it as `score`, which
     * gives ROC AUC and the threshold table (one more prompt evaluation per item). Default false.
     */
    score?: boolean;
    title?: string;
    /** Small JPEG thumbnails (data URLs) of the misclassified samples in report.html. Default false. */
    thumbnails?: boolean;
    signal?: AbortSignal;
    onProgress?: (done: number, total: number, record: EvalRecord) => void;
}

/** One line of records.jsonl. */
export interface EvalRecord {
    /** `${sample}` or `${sample}#v2` etc. */
    id: string;
    sample: string;
    /** The image path as written in the manifest. */
    image: string;
    kind: SampleKind;
    split?: string;
    /** The annotated severity from the manifest. */
    annotatedScore?: Score;
    policyHash: string;
    allowed: readonly string[];
    sensitive: readonly string[];
    expected: Rating;
    expectedCategory: string;
    /** null: no rating could be read, or the assessment failed (see error). */
    predicted: Rating | null;
    predictedCategory: string | null;
    rationale: string | null;
    parsedBy: Assessment['parsedBy'] | null;
    /** P(Unsafe) from guard.score (with RunEvalOptions.score); null when scoring failed. */
    score?: number | null;
    error: { name: string; message: string } | null;
    ms: number;
}

export interface EvalRun {
    metrics: EvalMetrics;
    records: EvalRecord[];
    files: { metrics: string; records: string; report: string };
}

/** The metrics input for a record; group = the source sample, so its variants resample together. */
export const outcomeOf = (r: EvalRecord): Outcome => ({
    id: r.id,
    kind: r.kind,
    group: r.sample,
    expected: r.expected,
    expectedCategory: r.expectedCategory,
    predicted: r.predicted,
    predictedCategory: r.predictedCategory,
    score: r.score ?? null,
    severity: r.annotatedScore ?? null,
});

/** Reads a records.jsonl back (e.g. to compute metrics on a subset: originals only, one split). */
export async function readRecords(path: string): Promise<EvalRecord[]> {
    const text = await readFile(path, 'utf8');
    return text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as EvalRecord);
}

export async function runEval(
    guard: EvalGuard,
    manifest: string | readonly EvalSample[],
    options: RunEvalOptions,
): Promise<EvalRun> {
    if (!options?.out) throw new TypeError('runEval needs options.out (the output folder)');
    if (options.score && typeof guard.score !== 'function')
        throw new TypeError('options.score needs a guard with score() (LlavaGuard.score)');
    const seed = options.seed ?? 0;
    const basePolicy = options.basePolicy ?? guard.defaultPolicy ?? Policy.default('v1.2');
    let samples = typeof manifest === 'string' ? await loadManifest(manifest, { policy: basePolicy }) : [...manifest];
    if (options.split !== undefined) samples = samples.filter((s) => s.split === options.split);
    const items = augment(samples, { mode: options.augment ?? 'none', seed, basePolicy, kinds: options.kinds });

    await mkdir(options.out, { recursive: true });
    const files = {
        metrics: join(options.out, 'metrics.json'),
        records: join(options.out, 'records.jsonl'),
        report: join(options.out, 'report.html'),
    };
    const records: EvalRecord[] = [];
    const handle = await open(files.records, 'w');
    try {
        // variants follow their original: read each image once
        let bytes = null as { path: string; data: Buffer | null; error: unknown } | null;
        for (const item of items) {
            options.signal?.throwIfAborted();
            const s = item.sample;
            if (bytes?.path !== s.image) {
                try {
                    bytes = { path: s.image, data: await readFile(s.image), error: null };
                } catch (error) {
                    bytes = { path: s.image, data: null, error };
                }
            }
            const started = performance.now();
            let assessment: Assessment | null = null;
            let error: unknown = bytes.error;
            if (bytes.data) {
                try {
                    assessment = await guard.assess(bytes.data, {
                        ...options.assess,
                        policy: item.policy,
                        seed,
                        signal: options.signal,
                    });
                } catch (err) {
                    if (options.signal?.aborted || (err as Error)?.name === 'AbortError') throw err;
                    error = err;
                }
            }
            let score: number | null | undefined;
            if (options.score && bytes.data) {
                try {
                    score = (await guard.score!(bytes.data, { policy: item.policy, signal: options.signal }))
                        .unsafeProbability;
                } catch (err) {
                    if (options.signal?.aborted || (err as Error)?.name === 'AbortError') throw err;
                    score = null;
                }
            }
            const record: EvalRecord = {
                id: item.id,
                sample: s.id,
                image: s.path,
                kind: item.kind,
                ...(s.split !== undefined ? { split: s.split } : {}),
                ...(s.score !== undefined ? { annotatedScore: s.score } : {}),
                policyHash: item.policy.hash,
                allowed: item.allowed,
                sensitive: item.sensitive,
                expected: item.expected,
                expectedCategory: item.expectedCategory,
                predicted: assessment?.rating ?? null,
                predictedCategory: assessment?.category ?? null,
                rationale: assessment?.rationale ?? null,
                parsedBy: assessment?.parsedBy ?? null,
                ...(options.score ? { score: score ?? null } : {}),
                error: assessment ? null : describe(error),
                ms: Math.round(performance.now() - started),
            };
            records.push(record);
            await handle.write(`${JSON.stringify(record)}\n`);
            options.onProgress?.(records.length, items.length, record);
        }
    } finally {
        await handle.close();
    }

    const metrics = computeMetrics(records.map(outcomeOf), {
        seed,
        resamples: options.resamples,
        invalid: options.invalid,
    });
    await writeFile(files.metrics, `${JSON.stringify(metrics, null, 2)}\n`);
    const meta: Record<string, string> = {
        model: guard.modelInfo?.name ?? 'unknown',
        manifest: typeof manifest === 'string' ? manifest : `${samples.length} samples`,
        'base policy': `${basePolicy.version} ${basePolicy.hash}`,
        augmentation:
            options.augment === 'paper'
                ? `paper (${(options.kinds ?? ['v2', 'v4']).join(', ')}), seed ${seed}`
                : 'none',
    };
    if (options.split !== undefined) meta.split = options.split;
    const thumbs = options.thumbnails ? await thumbnailsOf(records, samples) : new Map<string, string>();
    const reportRecords = records.map((r) => ({
        ...r,
        error: r.error ? `${r.error.name}: ${r.error.message}` : null,
        ...(thumbs.has(r.sample) ? { thumb: thumbs.get(r.sample) } : {}),
    }));
    await writeFile(files.report, renderReport(metrics, { title: options.title, records: reportRecords, meta }));
    return { metrics, records, files };
}

const MAX_THUMBS = 500;

// Thumbnails for the samples the report lists (misclassified ones); an image that cannot be
// decoded simply gets none.
async function thumbnailsOf(
    records: readonly EvalRecord[],
    samples: readonly EvalSample[],
): Promise<Map<string, string>> {
    const imageOf = new Map(samples.map((s) => [s.id, s.image]));
    const wanted = [...new Set(records.filter((r) => r.predicted !== r.expected).map((r) => r.sample))].slice(
        0,
        MAX_THUMBS,
    );
    const thumbs = new Map<string, string>();
    for (const id of wanted) {
        const path = imageOf.get(id);
        if (!path) continue;
        try {
            const jpeg = await sharp(path)
                .rotate()
                .resize(96, 96, { fit: 'inside' })
                .flatten({ background: '#ffffff' })
                .jpeg({ quality: 70 })
                .toBuffer();
            thumbs.set(id, `data:image/jpeg;base64,${jpeg.toString('base64')}`);
        } catch {
            // no thumbnail
        }
    }
    return thumbs;
}

function describe(error: unknown): { name: string; message: string } {
    if (error instanceof Error) return { name: error.name, message: error.message };
    return { name: 'Error', message: String(error ?? 'unknown error') };
}
