// Append-only JSONL output that survives a crash: every record is one write() of a whole line
// to a file opened with 'a', fsync'd at intervals; on reopen a torn last line is cut off.
import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';

export interface JsonlWriterOptions {
    /** fsync at most this often while writing (and always on close). Default 1000 ms. */
    syncIntervalMs?: number;
}

export interface ExistingLines {
    /** The whole lines already in the file, parsed (lines that are not JSON are left out). */
    values: unknown[];
    /** Bytes of a partial last line that were cut off (a crash mid-write). */
    droppedBytes: number;
    /** Whole lines that did not parse. */
    badLines: number;
}

/** Reads what a previous run wrote, truncating the file to its last '\n' first. A missing file is empty. */
export async function readExistingLines(path: string): Promise<ExistingLines> {
    let buf: Buffer;
    try {
        buf = await readFile(path);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { values: [], droppedBytes: 0, badLines: 0 };
        throw error;
    }
    const end = buf.lastIndexOf(0x0a) + 1;
    const droppedBytes = buf.length - end;
    if (droppedBytes > 0) await truncate(path, end);
    const values: unknown[] = [];
    let badLines = 0;
    for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
            values.push(JSON.parse(line));
        } catch {
            badLines++;
        }
    }
    return { values, droppedBytes, badLines };
}

/**
 * The output could not be written (no space left, quota, I/O error): the scan stops. The records written before
 * stay; a partly written last line is cut off when the scan is run again, which resumes after them.
 */
export class ScanOutputError extends Error {
    override name = 'ScanOutputError';
    /** The system error code (ENOSPC, EDQUOT, EIO, ...). */
    readonly code: string | undefined;
    constructor(
        readonly path: string,
        cause: unknown,
    ) {
        const code = (cause as NodeJS.ErrnoException)?.code;
        const why =
            code === 'ENOSPC'
                ? 'no space left on the device'
                : code === 'EDQUOT'
                  ? 'disk quota exceeded'
                  : String((cause as Error)?.message ?? cause);
        super(
            `cannot write the scan output ${path}: ${why}${code ? ` (${code})` : ''}; the records written so far are kept and a new run resumes after them`,
            { cause },
        );
        this.code = code;
    }
}

export class JsonlWriter {
    readonly #path: string;
    readonly #fh: FileHandle;
    readonly #syncIntervalMs: number;
    #lastSync = Date.now();
    #dirty = false;
    #chain: Promise<void> = Promise.resolve();

    private constructor(path: string, fh: FileHandle, options: JsonlWriterOptions) {
        this.#path = path;
        this.#fh = fh;
        this.#syncIntervalMs = options.syncIntervalMs ?? 1000;
    }

    /** Opens for appending (creating the file). Call {@link readExistingLines} first to resume. */
    static async open(path: string, options: JsonlWriterOptions = {}): Promise<JsonlWriter> {
        return new JsonlWriter(path, await open(path, 'a'), options);
    }

    /** Appends one record as one line. Writes are serialized, so lines never interleave. @throws {ScanOutputError} */
    write(value: unknown): Promise<void> {
        const line = Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
        this.#chain = this.#chain.then(() =>
            this.#append(line).catch((error) => {
                throw new ScanOutputError(this.#path, error);
            }),
        );
        return this.#chain;
    }

    async close(): Promise<void> {
        await this.#chain.catch(() => {});
        try {
            if (this.#dirty) await this.#fh.sync();
        } catch (error) {
            throw new ScanOutputError(this.#path, error);
        } finally {
            await this.#fh.close();
        }
    }

    async #append(line: Buffer): Promise<void> {
        // one write() of the whole line; a short write (disk full, signal) continues at the end ('a')
        let off = 0;
        while (off < line.length) off += (await this.#fh.write(line, off, line.length - off)).bytesWritten;
        this.#dirty = true;
        if (Date.now() - this.#lastSync >= this.#syncIntervalMs) {
            await this.#fh.sync();
            this.#lastSync = Date.now();
            this.#dirty = false;
        }
    }
}
