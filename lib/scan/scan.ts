// scanImages: one record per image of a collection, written crash-safely and resumable.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Assessment, AssessOptions, ImageInput } from '../guard/types.js';
import { loadImage } from '../image/index.js';
import type { RgbImage } from '../image/types.js';
import type { Policy } from '../policy/index.js';
import { JsonlWriter, readExistingLines } from './jsonl-writer.js';
import { prefetch } from './prefetch.js';
import {
    duplicateRecord,
    errorRecord,
    isRecord,
    isVerdict,
    recordKey,
    verdictRecord,
    type ModelIdentity,
    type ScanRecord,
} from './records.js';
import { entryRoot, listImages, type ScanEntry, type ScanSource, type Shard } from './sources.js';

/** What the scan needs of a guard (a LlavaGuard, or a stand-in in tests). */
export interface ScanGuard {
    readonly modelInfo: { name: string; path: string };
    readonly defaultPolicy: Policy;
    /** When present, images are decoded ahead at the size its pipeline can use, and its name keys the records. */
    readonly imagePipeline?: { readonly name: string; readonly maxDecodeSide: number | undefined };
    assess(image: ImageInput, options?: AssessOptions): Promise<Assessment>;
    /** Sequence slots: that many assessments are kept in flight (see LlavaGuard.load's `sequences`). */
    readonly sequences?: number;
}

export interface ScanOptions {
    policy?: Policy;
    seed?: number;
    temperature?: number;
    maxTokens?: number;
    maxRationaleChars?: number;
    /** JSONL file the records are appended to; images already recorded there (same content, model and policy) are skipped. */
    output?: string;
    /** Used when `source` is listed here; entries passed in as an array are taken as they are. */
    limit?: number;
    shard?: Shard;
    /** For the source '-'. */
    stdin?: NodeJS.ReadableStream;
    /** Assessments in flight at once (decoded together by the guard). Default: the guard's sequence slots. */
    parallel?: number;
    /** Images read, hashed and decoded ahead of inference. Default 4 (or parallel + 2). */
    prefetch?: number;
    /** Stops the scan after the record in progress is abandoned; records written so far stay. */
    signal?: AbortSignal;
    /** fsync interval of the output. Default 1000 ms. */
    syncIntervalMs?: number;
    /** Called after every image, resumed ones included; `record` is absent for those. */
    onProgress?: (summary: Readonly<ScanSummary>, record?: ScanRecord) => void;
}

export interface ScanSummary {
    /** Images in the source (after shard and limit). */
    total: number;
    /** Images handled so far in this run, resumed ones included. */
    done: number;
    /** Images sent to the model in this run. */
    assessed: number;
    /** Records of this run, duplicates included. */
    safe: number;
    unsafe: number;
    errors: number;
    /** Images whose record was copied from an earlier one with the same content. */
    duplicates: number;
    /** Images already in the output (resumed). */
    skipped: number;
    /** Bytes of a torn last line cut off the output on resume. */
    droppedBytes: number;
    aborted: boolean;
    /** Verdicts by category and rating, over all images of the source (resumed ones included). */
    categories: Record<string, { Safe: number; Unsafe: number }>;
    elapsedMs: number;
}

type Prepared =
    | { entry: ScanEntry; action: 'readError'; error: unknown }
    | { entry: ScanEntry; action: 'skip'; previous: ScanRecord }
    | {
          entry: ScanEntry;
          action: 'duplicate' | 'assess';
          bytes: number;
          sha256: string;
          key: string;
          rgb?: RgbImage;
          error?: unknown;
      };

/**
 * Rates every image of `source`, yielding each record once it is written. The generator's
 * return value is the summary. Images with the same content are assessed once (later ones get a
 * copy with `duplicateOf`). With `output`, an image whose path and key are already recorded there
 * is skipped; a changed file at the same path gets a new record appended, so readers should take
 * the last record of a path.
 *
 *     const scan = scanImages(guard, 'photos/', { output: 'results.jsonl' });
 *     for await (const record of scan) console.log(record.path);
 */
export async function* scanImages(
    guard: ScanGuard,
    source: ScanSource | readonly ScanEntry[],
    options: ScanOptions = {},
): AsyncGenerator<ScanRecord, ScanSummary, undefined> {
    const started = performance.now();
    const { signal } = options;
    const policy = options.policy ?? guard.defaultPolicy;
    const model = await modelIdentity(guard);
    const entries = Array.isArray(source)
        ? (source as readonly ScanEntry[])
        : await listImages(source as ScanSource, { limit: options.limit, shard: options.shard, stdin: options.stdin });
    const summary: ScanSummary = {
        total: entries.length,
        done: 0,
        assessed: 0,
        safe: 0,
        unsafe: 0,
        errors: 0,
        duplicates: 0,
        skipped: 0,
        droppedBytes: 0,
        aborted: false,
        categories: {},
        elapsedMs: 0,
    };

    // key -> first record with that content; "path\0key" -> record already in the output
    const known = new Map<string, ScanRecord>();
    const recorded = new Map<string, ScanRecord>();
    let writer: JsonlWriter | undefined;
    if (options.output) {
        const existing = await readExistingLines(options.output);
        summary.droppedBytes = existing.droppedBytes;
        for (const r of existing.values) {
            if (!isRecord(r) || !r.key) continue; // errors without content are retried
            if (!known.has(r.key)) known.set(r.key, r);
            recorded.set(`${r.path}\0${r.key}`, r);
        }
        writer = await JsonlWriter.open(options.output, { syncIntervalMs: options.syncIntervalMs });
    }

    const maxSide = guard.imagePipeline?.maxDecodeSide;
    const scheduled = new Set<string>();
    // reads and hashes run ahead concurrently; the skip/duplicate/assess decisions are taken in order
    let turn: Promise<unknown> = Promise.resolve();
    const decide = async (
        entry: ScanEntry,
        read: Promise<{ buf: Buffer; sha256: string }>,
    ): Promise<Prepared & { buf?: Buffer }> => {
        let content: { buf: Buffer; sha256: string };
        try {
            content = await read;
        } catch (error) {
            return { entry, action: 'readError', error };
        }
        const key = recordKey(content.sha256, model, policy.hash);
        const previous = recorded.get(`${entry.path}\0${key}`);
        if (previous) return { entry, action: 'skip', previous };
        const base = { entry, bytes: content.buf.length, sha256: content.sha256, key };
        if (known.has(key) || scheduled.has(key)) return { ...base, action: 'duplicate' };
        scheduled.add(key);
        return { ...base, action: 'assess', buf: content.buf };
    };
    const prepare = async (entry: ScanEntry): Promise<Prepared> => {
        const read = readFile(entry.file).then((buf) => ({
            buf,
            sha256: createHash('sha256').update(buf).digest('hex'),
        }));
        read.catch(() => {});
        const decision = turn.then(() => decide(entry, read));
        turn = decision.catch(() => {});
        const { buf, ...d } = await decision;
        if (d.action !== 'assess') return d;
        try {
            return { ...d, rgb: await loadImage(buf!, { maxSide }) };
        } catch (error) {
            return { ...d, error };
        }
    };

    const count = (r: ScanRecord, fresh: boolean) => {
        if (isVerdict(r)) {
            const name = r.category ?? '(none)';
            summary.categories[name] ??= { Safe: 0, Unsafe: 0 };
            summary.categories[name][r.rating]++;
            if (fresh) r.unsafe ? summary.unsafe++ : summary.safe++;
        } else if (fresh) summary.errors++;
    };

    // Up to `parallel` assessments in flight: the guard decodes those waiting together over its sequence
    // slots. Records are still settled, written and yielded in list order.
    const parallel = Math.max(1, options.parallel ?? guard.sequences ?? 1);
    type Job = { item: Prepared; verdict?: Promise<Assessment> };
    const window: Job[] = [];
    const startJob = (item: Prepared): Job => {
        if (item.action !== 'assess' || item.error !== undefined) return { item };
        const rgb = item.rgb!;
        summary.assessed++;
        // The pixels decoded ahead, handed on as they are: the guard does not decode them again.
        const verdict = guard.assess(
            { data: rgb.data, width: rgb.width, height: rgb.height, channels: 3 },
            {
                policy,
                seed: options.seed,
                temperature: options.temperature,
                maxTokens: options.maxTokens,
                maxRationaleChars: options.maxRationaleChars,
                signal,
            },
        );
        verdict.catch(() => {});
        return { item, verdict };
    };
    /** The job's record, or undefined for an image resumed from the output. */
    const settle = async ({ item, verdict }: Job): Promise<ScanRecord | undefined> => {
        const image = { path: item.entry.path, root: entryRoot(item.entry) };
        if (item.action === 'skip') {
            summary.skipped++;
            summary.done++;
            count(item.previous, false);
            options.onProgress?.(summary);
            return undefined;
        }
        let record: ScanRecord;
        if (item.action === 'readError') {
            record = errorRecord(image, item.error);
        } else if (item.action === 'duplicate') {
            record = duplicateRecord(known.get(item.key)!, image);
            summary.duplicates++;
        } else {
            const meta = { ...image, bytes: item.bytes, sha256: item.sha256, key: item.key };
            try {
                record =
                    item.error !== undefined
                        ? errorRecord(meta, item.error)
                        : verdictRecord(meta, await verdict!, model);
            } catch (error) {
                if (signal?.aborted) throw error;
                record = errorRecord(meta, error);
            }
            known.set(item.key, record);
        }
        await writer?.write(record);
        count(record, true);
        summary.done++;
        options.onProgress?.(summary, record);
        return record;
    };
    const inFlight = () => window.filter((j) => j.verdict).length;

    try {
        try {
            for await (const item of prefetch(entries, options.prefetch ?? Math.max(4, parallel + 2), prepare)) {
                if (signal?.aborted) break;
                window.push(startJob(item));
                while (window.length > 0 && (inFlight() >= parallel || !window[0]!.verdict)) {
                    const record = await settle(window.shift()!);
                    if (record) yield record;
                    if (signal?.aborted) break;
                }
            }
            while (window.length > 0 && !signal?.aborted) {
                const record = await settle(window.shift()!);
                if (record) yield record;
            }
        } catch (error) {
            if (!signal?.aborted) throw error;
        }
        if (signal?.aborted) summary.aborted = true;
    } finally {
        await writer?.close();
        summary.elapsedMs = performance.now() - started;
    }
    return summary;
}

async function modelIdentity(guard: ScanGuard): Promise<ModelIdentity> {
    const { name, path } = guard.modelInfo;
    const identity: ModelIdentity = { name, file: basename(path), bytes: (await stat(path)).size };
    if (guard.imagePipeline) identity.imagePipeline = guard.imagePipeline.name;
    return identity;
}
