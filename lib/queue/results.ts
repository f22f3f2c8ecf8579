// queueResults: the queue's records exported as a scan's JSONL (same fields, `path`/`root` convention and
// duplicate marking), one record per path, sorted by path; report and eval read it unchanged.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { duplicateRecord, RECORD_SCHEMA, type ScanRecord } from '../scan/records.js';
import { checkChunkData, type ChunkJobData } from './chunks.js';
import { openQueue, type QueueTarget } from './connection.js';
import { parsePathField, pathField, queueKeys } from './keys.js';

export interface QueueResultsOptions extends QueueTarget {
    /** JSONL file to write (replaced as a whole when the export is complete). */
    out: string;
}

export interface QueueResultsSummary {
    /** Records written. */
    records: number;
    verdicts: number;
    errors: number;
    duplicates: number;
    /** Images of chunks that failed for good (`queue retry-failed` tries them again): written as error records. */
    failed: number;
    /** Images added but not recorded yet (waiting or in progress): not written. */
    missing: number;
}

const BATCH = 500;

export async function queueResults(options: QueueResultsOptions): Promise<QueueResultsSummary> {
    const keys = queueKeys(options.queue);
    const { queue, redis } = await openQueue<ChunkJobData>(options);
    const tmp = `${options.out}.${process.pid}.tmp`;
    try {
        // every recorded path with what it points to, sorted as a scan lists them
        const located: { path: string; root?: string; value: Record<string, unknown> }[] = [];
        let cursor = '0';
        do {
            const replies = (await redis.pipeline().hscan(keys.paths, cursor, { COUNT: 1000 }).exec()) ?? [];
            const [error, reply] = replies[0] ?? [new Error('no reply to HSCAN'), undefined];
            if (error) throw error;
            const [next, flat] = reply as [string, string[]];
            cursor = String(next);
            for (let i = 0; i < flat.length; i += 2)
                located.push({ ...parsePathField(flat[i]!), value: JSON.parse(flat[i + 1]!) });
        } while (cursor !== '0');
        const recorded = new Set(located.map((l) => pathField(l.path, l.root)));

        // chunks that failed for good: their unrecorded images get an error record saying so
        const failedRecords: ScanRecord[] = [];
        for (const job of await queue.getFailed(0, -1)) {
            let data: ChunkJobData;
            try {
                data = checkChunkData(job.data);
            } catch {
                continue;
            }
            for (const image of data.images) {
                if (recorded.has(pathField(image.path, image.root))) continue;
                recorded.add(pathField(image.path, image.root));
                failedRecords.push({
                    schema: RECORD_SCHEMA,
                    path: image.path,
                    ...(image.root === undefined ? {} : { root: image.root }),
                    error: `not rated: its chunk failed (${job.failedReason ?? 'no reason given'})`,
                    code: 'QUEUE_FAILED',
                });
            }
        }

        const byPath = (a: { path: string; root?: string }, b: { path: string; root?: string }) =>
            a.path < b.path ? -1 : a.path > b.path ? 1 : (a.root ?? '') < (b.root ?? '') ? -1 : 1;
        located.sort(byPath);
        const out = createWriteStream(tmp);
        const write = async (r: ScanRecord) => {
            if (!out.write(`${JSON.stringify(r)}\n`)) await once(out, 'drain');
        };
        const summary: QueueResultsSummary = {
            records: 0,
            verdicts: 0,
            errors: 0,
            duplicates: 0,
            failed: failedRecords.length,
            missing: 0,
        };
        const count = (r: ScanRecord) => {
            summary.records++;
            if ('error' in r) summary.errors++;
            else summary.verdicts++;
            if (r.duplicateOf) summary.duplicates++;
        };
        // the first path of a content (in path order) carries its record; later ones are duplicates of it, as in a scan
        const firstOf = new Map<string, ScanRecord>();
        for (let i = 0; i < located.length; i += BATCH) {
            const batch = located.slice(i, i + BATCH);
            const wanted = batch.map((l) => l.value.key).filter((k): k is string => typeof k === 'string');
            const contents = wanted.length > 0 ? await redis.hmget(keys.results, ...wanted) : [];
            const content = new Map(wanted.map((k, j) => [k, contents[j]]));
            for (const l of batch) {
                const at = l.root === undefined ? { path: l.path } : { path: l.path, root: l.root };
                const key = l.value.key;
                let record: ScanRecord;
                if (typeof key !== 'string') {
                    const { schema, ...rest } = l.value;
                    record = { schema: schema ?? RECORD_SCHEMA, ...at, ...rest } as ScanRecord;
                } else if (firstOf.has(key)) {
                    record = duplicateRecord(firstOf.get(key)!, at);
                } else {
                    const raw = content.get(key);
                    if (!raw) throw new Error(`the queue's results lack the record ${key} that ${l.path} points to`);
                    const { schema, ...rest } = JSON.parse(raw) as ScanRecord;
                    record = { schema: schema ?? RECORD_SCHEMA, ...at, ...rest } as ScanRecord;
                    firstOf.set(key, record);
                }
                await write(record);
                count(record);
            }
        }
        for (const r of failedRecords) {
            await write(r);
            count(r);
        }
        out.end();
        await once(out, 'finish');
        await rename(tmp, options.out);
        const added = Number((await redis.hget(keys.counts, 'images')) ?? 0);
        summary.missing = Math.max(0, added - summary.records);
        return summary;
    } catch (error) {
        await rm(tmp, { force: true });
        throw error;
    } finally {
        await queue.close();
    }
}
