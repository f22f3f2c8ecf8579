// The scan's output records and the key that says an image is done.
import { createHash } from 'node:crypto';
import type { Assessment, AssessmentTimings } from '../guard/types.js';
import type { Rating } from '../verdict/types.js';

/**
 * Version of the record layout that scan, queue and report share. Records without it are version 1 files
 * written before the field existed; readers take any version up to this one.
 */
export const RECORD_SCHEMA = 1;

/** Which worker recorded an image, and on which machine (records exported from a queue). */
export interface AssessedBy {
    worker: string;
    host: string;
}

/** Which model rated an image: enough to tell a re-run with another model file from a resume. */
export interface ModelIdentity {
    name: string;
    /** Basename of the text-model GGUF. */
    file: string;
    /** Its size in bytes. */
    bytes: number;
    /** The image pipeline (another pipeline gives other verdicts, so it is part of the record key). */
    imagePipeline?: string;
}

export interface ScanVerdictRecord {
    /** {@link RECORD_SCHEMA} (absent in older files). */
    schema?: number;
    path: string;
    /** The folder a relative `path` is relative to, when the scan knew it (absent in older files). */
    root?: string;
    bytes: number;
    sha256: string;
    /** {@link recordKey}: content + model + policy. */
    key: string;
    rating: Rating;
    category: string | null;
    rationale: string | null;
    unsafe: boolean;
    timings: AssessmentTimings;
    model: ModelIdentity;
    policyHash: string;
    /** Set when this image has the same content as an earlier one, whose verdict was copied. */
    duplicateOf?: string;
    /** Set by queue workers: who assessed the content. */
    assessedBy?: AssessedBy;
}

export interface ScanErrorRecord {
    schema?: number;
    path: string;
    root?: string;
    bytes?: number;
    sha256?: string;
    /** Present when the content was read: the error is then a property of the content and is not retried. */
    key?: string;
    error: string;
    /** ImageDecodeError code ('CORRUPT', 'UNSUPPORTED', ...) or the error's name. */
    code?: string;
    duplicateOf?: string;
    assessedBy?: AssessedBy;
}

export type ScanRecord = ScanVerdictRecord | ScanErrorRecord;

export const isVerdict = (r: ScanRecord): r is ScanVerdictRecord => !('error' in r);

/** The done-key of an image: sha256 of its content, the model identity and the policy hash. */
export function recordKey(sha256: string, model: ModelIdentity, policyHash: string): string {
    const pipeline = model.imagePipeline ? `\0${model.imagePipeline}` : '';
    return createHash('sha256')
        .update(`${sha256}\0${model.file}\0${model.bytes}\0${policyHash}${pipeline}`)
        .digest('hex');
}

/** Where an image is, as records say it. */
export interface RecordLocation {
    path: string;
    root?: string;
}

const located = ({ path, root }: RecordLocation) => (root === undefined ? { path } : { path, root });

/** What every record starts with: the schema, where the image is, and its content's identity. */
function recordHead<I extends RecordLocation & { bytes?: number; sha256?: string; key?: string }>(
    image: I,
): RecordLocation & { schema: typeof RECORD_SCHEMA } & Pick<I, 'bytes' | 'sha256' | 'key'> {
    return { schema: RECORD_SCHEMA, ...located(image), bytes: image.bytes, sha256: image.sha256, key: image.key };
}

export function verdictRecord(
    image: RecordLocation & { bytes: number; sha256: string; key: string },
    a: Assessment,
    model: ModelIdentity,
): ScanVerdictRecord {
    return {
        ...recordHead(image),
        rating: a.rating,
        category: a.category,
        rationale: a.rationale,
        unsafe: a.unsafe,
        timings: a.timings,
        model,
        policyHash: a.policyHash,
    };
}

export function errorRecord(
    image: RecordLocation & { bytes?: number; sha256?: string; key?: string },
    error: unknown,
): ScanErrorRecord {
    const e = error as { message?: string; code?: unknown; name?: string; input?: string };
    let message = String(e?.message ?? error);
    // ImageDecodeError names its input ("Buffer (123 bytes)"); the record's path says it better
    if (e?.name === 'ImageDecodeError' && e.input) message = message.replace(`Cannot load image from ${e.input}: `, '');
    const code = typeof e?.code === 'string' ? e.code : e?.name;
    return {
        ...recordHead(image),
        error: message,
        ...(code ? { code } : {}),
    };
}

/** A later image with the same content gets the first one's record, under its own path (and root). */
export function duplicateRecord(first: ScanRecord, at: string | RecordLocation): ScanRecord {
    const { path: _path, root: _root, ...verdict } = first;
    return {
        ...located(typeof at === 'string' ? { path: at } : at),
        ...verdict,
        duplicateOf: first.duplicateOf ?? first.path,
    };
}

/** Whether a parsed JSON line looks like a record of ours (resume ignores anything else). */
export function isRecord(value: unknown): value is ScanRecord {
    const v = value as Partial<ScanVerdictRecord & ScanErrorRecord> | null;
    return (
        typeof v === 'object' &&
        v !== null &&
        typeof v.path === 'string' &&
        (typeof v.error === 'string' || typeof v.key === 'string')
    );
}
