// A context's KV cache, priced before llama.cpp allocates it. llama_init_from_model allocates the whole cache and
// clears it (llama-kv-cache.cpp: ggml_backend_buffer_clear), so every page is touched at once: when the allocation
// itself fails, llama.cpp returns null and createContext rejects with its log ("failed to allocate buffer for kv
// cache"), but with Linux's overcommit the allocation usually succeeds and the clear then runs the machine out of
// memory, and the kernel's OOM killer ends the process (SIGKILL: no error, no cleanup). The model's weights are
// memory-mapped and page in and out as needed; the cache is anonymous memory and cannot. So a cache larger than
// the memory available is refused here, with a typed error that says what to change.
import { existsSync, readFileSync } from 'node:fs';
import { freemem } from 'node:os';

/** A resource a request needs more of than the machine has (memory for a KV cache). */
export class ResourceLimitError extends RangeError {
    override name = 'ResourceLimitError';
    constructor(
        message: string,
        readonly resource: 'memory',
        readonly neededBytes: number,
        readonly availableBytes: number,
    ) {
        super(message);
    }
}

/** What one KV cell costs: per layer, K and V of n_embd_head * n_head_kv values each. */
export interface KvShape {
    nLayer: number;
    /** n_embd_k_gqa: key width per layer (head size x KV heads). */
    nEmbdK: number;
    nEmbdV: number;
}

export type CacheType = 'f16' | 'f32' | 'bf16' | 'q8_0' | 'q4_0';
const CACHE_TYPE_BYTES: Record<CacheType, number> = { f32: 4, f16: 2, bf16: 2, q8_0: 34 / 32, q4_0: 18 / 32 };

/** The KV shape from llama.cpp's printed metadata (VisionModel.info.metadata) for llama / qwen2 models. */
export function kvShapeFromMetadata(metadata: Record<string, string>): KvShape {
    const arch = metadata['general.architecture'];
    const num = (key: string, fallback?: number): number => {
        const v = metadata[`${arch}.${key}`];
        const n = v === undefined ? fallback : Number(v);
        if (n === undefined || !Number.isFinite(n) || n <= 0)
            throw new RangeError(`${arch}.${key} is not usable: ${v}`);
        return n;
    };
    const nEmbd = num('embedding_length');
    const nHead = num('attention.head_count');
    const nHeadKv = num('attention.head_count_kv', nHead);
    const nEmbdK = num('attention.key_length', nEmbd / nHead) * nHeadKv;
    const nEmbdV = num('attention.value_length', nEmbd / nHead) * nHeadKv;
    return { nLayer: num('block_count'), nEmbdK, nEmbdV };
}

export interface KvCacheOptions {
    /** Total cells (all sequences together, as createContext's contextSize). */
    contextSize: number;
    cacheTypeK?: CacheType;
    cacheTypeV?: CacheType;
}

/** Bytes of the KV cache llama.cpp allocates for these options (cells padded to 256, as llama_context does). */
export function kvCacheBytes(shape: KvShape, o: KvCacheOptions): number {
    const cells = Math.ceil(o.contextSize / 256) * 256;
    const k = CACHE_TYPE_BYTES[o.cacheTypeK ?? 'f16'];
    const v = CACHE_TYPE_BYTES[o.cacheTypeV ?? 'f16'];
    return Math.ceil(shape.nLayer * cells * (shape.nEmbdK * k + shape.nEmbdV * v));
}

/**
 * Memory this process can still take: MemAvailable (page cache that can be dropped included), bounded by the
 * memory cgroup's limit less its usage (cgroup v2 memory.max, or v1 memory.limit_in_bytes) when there is one.
 */
export function availableMemoryBytes(): number {
    let available = freemem();
    try {
        const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
        if (m) available = Number(m[1]) * 1024;
    } catch {}
    const cgroupLeft = cgroupMemoryLeft();
    return cgroupLeft === undefined ? available : Math.min(available, cgroupLeft);
}

function cgroupMemoryLeft(): number | undefined {
    try {
        for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
            const [, controllers, path] = line.split(':');
            if (path === undefined) continue;
            const [dir, limitFile, usageFile] =
                controllers === ''
                    ? [`/sys/fs/cgroup${path}`, 'memory.max', 'memory.current']
                    : controllers!.split(',').includes('memory')
                      ? [`/sys/fs/cgroup/memory${path}`, 'memory.limit_in_bytes', 'memory.usage_in_bytes']
                      : [];
            if (!dir || !existsSync(`${dir}/${limitFile}`)) continue;
            const limit = Number(readFileSync(`${dir}/${limitFile}`, 'utf8').trim());
            const usage = Number(readFileSync(`${dir}/${usageFile}`, 'utf8').trim());
            // "max" (v2) or a page-rounded 2^63 (v1) is no limit.
            if (Number.isFinite(limit) && limit < 2 ** 60 && Number.isFinite(usage)) return Math.max(0, limit - usage);
        }
    } catch {}
    return undefined;
}

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

/**
 * Throws a ResourceLimitError when a context's KV cache (held in host memory: a CPU context) would not fit in the
 * memory available, instead of letting llama.cpp allocate and clear it.
 */
export function checkKvCacheFits(shape: KvShape, o: KvCacheOptions, available = availableMemoryBytes()): number {
    const needed = kvCacheBytes(shape, o);
    if (needed > available) {
        throw new ResourceLimitError(
            `a context of ${o.contextSize} tokens needs ${MiB(needed)} of KV cache (${shape.nLayer} layers x ` +
                `${shape.nEmbdK} + ${shape.nEmbdV} values per token, ${o.cacheTypeK ?? 'f16'}/${o.cacheTypeV ?? 'f16'}), ` +
                `more than the ${MiB(available)} of memory available; use a smaller contextSize or a quantized ` +
                `cache (cacheTypeK / cacheTypeV 'q8_0')`,
            'memory',
            needed,
            available,
        );
    }
    return needed;
}
