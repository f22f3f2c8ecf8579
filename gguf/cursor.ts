// Bounded little-endian reads over a GGUF file or buffer: positioned reads through a small window (so a
// multi-GB model costs only the bytes asked for), every read checked against the bytes that are left.

import type { promises as fsp } from 'node:fs';

import { scalarCodec } from './scalars.js';
import { GgufType, type GgufScalar, type GgufScalarType } from './types.js';

/** A file (or buffer) that is not a well-formed GGUF file. */
export class GgufFormatError extends Error {
    /** Byte offset where the problem was found, when known. */
    readonly offset: number | undefined;
    /** File path, when reading a file. */
    readonly path: string | undefined;

    constructor(message: string, opts: { offset?: number; path?: string } = {}) {
        const where = [
            opts.path !== undefined ? `in ${opts.path}` : undefined,
            opts.offset !== undefined ? `at byte offset ${opts.offset}` : undefined,
        ]
            .filter(Boolean)
            .join(' ');
        super(where ? `${message} (${where})` : message);
        this.name = 'GgufFormatError';
        this.offset = opts.offset;
        this.path = opts.path;
    }
}

export interface ByteSource {
    readonly size: number;
    /** Reads exactly `len` bytes at `pos`; the caller guarantees pos + len <= size. */
    readAt(pos: number, len: number): Promise<Buffer>;
}

export class BufferSource implements ByteSource {
    constructor(private readonly buf: Uint8Array) {}
    get size(): number {
        return this.buf.byteLength;
    }
    async readAt(pos: number, len: number): Promise<Buffer> {
        return Buffer.from(this.buf.buffer, this.buf.byteOffset + pos, len);
    }
}

export class FileSource implements ByteSource {
    constructor(
        private readonly fh: fsp.FileHandle,
        readonly size: number,
        private readonly stats?: { reads: number; bytesRead: number },
    ) {}
    async readAt(pos: number, len: number): Promise<Buffer> {
        const out = Buffer.allocUnsafeSlow(len); // never a slice of the shared pool
        let done = 0;
        while (done < len) {
            const { bytesRead } = await this.fh.read(out, done, len - done, pos + done);
            if (this.stats) {
                this.stats.reads++;
                this.stats.bytesRead += bytesRead;
            }
            if (bytesRead === 0) {
                throw new GgufFormatError(`file is truncated: end of file while reading ${len} bytes`, {
                    offset: pos + done,
                });
            }
            done += bytesRead;
        }
        return out;
    }
}

export const TRUNC_HINT = '(corrupt or truncated file)';

const textDecoder = new TextDecoder('utf-8');

export class Cursor {
    private buf: Buffer = Buffer.alloc(0);
    private bufStart = 0;
    pos = 0;

    constructor(
        private readonly src: ByteSource,
        private readonly chunk: number,
        readonly path: string | undefined,
    ) {}

    get size(): number {
        return this.src.size;
    }

    get remaining(): number {
        return this.src.size - this.pos;
    }

    fail(message: string, offset: number = this.pos): never {
        throw new GgufFormatError(message, { offset, path: this.path });
    }

    /** Makes [pos, pos + n) available, or fails with a "truncated" error naming `what`. */
    async need(n: number, what: string): Promise<void> {
        if (this.pos + n > this.src.size) {
            this.fail(
                `file is truncated: ${what} needs ${n} bytes but only ${Math.max(0, this.remaining)} remain ` +
                    `(file size ${this.src.size})`,
            );
        }
        if (this.has(n)) return;
        const len = Math.min(Math.max(n, this.chunk), this.src.size - this.pos);
        this.buf = await this.src.readAt(this.pos, len);
        this.bufStart = this.pos;
    }

    private has(n: number): boolean {
        const off = this.pos - this.bufStart;
        return off >= 0 && off + n <= this.buf.length;
    }

    private at(): number {
        return this.pos - this.bufStart;
    }

    /** The value at buffer offset `a` (file offset `pos`); a BOOL byte other than 0 or 1 is an error. */
    private decode(type: GgufScalarType, a: number, pos: number, what: string): GgufScalar {
        if (type === GgufType.BOOL && this.buf[a] > 1) this.fail(`invalid bool value ${this.buf[a]} for ${what}`, pos);
        return scalarCodec(type).read(this.buf, a);
    }

    /** One value of a fixed-size type. */
    async scalar(type: GgufScalarType, what: string): Promise<GgufScalar> {
        const { size } = scalarCodec(type);
        if (!this.has(size)) await this.need(size, what);
        const v = this.decode(type, this.at(), this.pos, what);
        this.pos += size;
        return v;
    }
    u32 = (what: string) => this.scalar(GgufType.UINT32, what) as Promise<number>;
    i32 = (what: string) => this.scalar(GgufType.INT32, what) as Promise<number>;
    u64 = (what: string) => this.scalar(GgufType.UINT64, what) as Promise<bigint>;
    i64 = (what: string) => this.scalar(GgufType.INT64, what) as Promise<bigint>;

    /** A u64 length-prefixed string whose length must fit in the bytes left; skipped (not decoded) unless `keep`. */
    async str(what: string, keep = true): Promise<string> {
        const lenPos = this.pos;
        const len = await this.u64(`length of ${what}`);
        if (len > BigInt(this.remaining)) {
            this.fail(
                `absurd string length ${len} for ${what}: only ${this.remaining} bytes remain in the file ${TRUNC_HINT}`,
                lenPos,
            );
        }
        const n = Number(len);
        if (!keep) {
            this.pos += n;
            return '';
        }
        if (!this.has(n)) await this.need(n, what);
        const a = this.at();
        const s = textDecoder.decode(this.buf.subarray(a, a + n));
        this.pos += n;
        return s;
    }

    /**
     * Reads the `count` elements of array `key`, keeping the first `keep` in out[0..keep) and checking (strings)
     * or skipping (fixed sizes) the rest. Whole buffered windows are decoded at once.
     */
    async arrayValues(
        type: GgufScalarType,
        count: number,
        keep: number,
        out: GgufScalar[],
        key: string,
    ): Promise<void> {
        const what = `element of array '${key}'`;
        if (type === GgufType.STRING) {
            for (let i = 0; i < count; i++) {
                const s = this.strInWindow(i < keep) ?? (await this.str(what, i < keep));
                if (i < keep) out[i] = s;
            }
            return;
        }
        const { size } = scalarCodec(type);
        for (let i = 0; i < keep; ) {
            if (!this.has(size)) await this.need(size, what);
            const a = this.at();
            const n = Math.min(keep - i, Math.floor((this.buf.length - a) / size));
            for (let k = 0; k < n; k++) out[i + k] = this.decode(type, a + k * size, this.pos + k * size, what);
            i += n;
            this.pos += n * size;
        }
        this.skip((count - keep) * size, `array '${key}'`);
    }

    /** A string lying wholly in the buffered window, read (or skipped) without awaiting; else undefined. */
    private strInWindow(keep: boolean): string | undefined {
        if (!this.has(8)) return undefined;
        const a = this.at();
        const n = this.buf.readUInt32LE(a);
        if (this.buf.readUInt32LE(a + 4) !== 0 || n > this.buf.length - a - 8) return undefined;
        this.pos += 8 + n;
        return keep ? this.buf.toString('utf8', a + 8, a + 8 + n) : '';
    }

    skip(n: number, what: string): void {
        if (this.pos + n > this.src.size) {
            this.fail(`file is truncated: ${what} needs ${n} bytes but only ${this.remaining} remain`);
        }
        this.pos += n;
    }
}
