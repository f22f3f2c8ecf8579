// Admission and sharing of the server's assessments. A job is one call into the guard; requests for the same
// work (same image bytes, policy and settings) while it runs share it instead of assessing again. At most
// `slots + queueLimit` jobs are admitted; beyond that the server answers 429 with a Retry-After estimated from
// recent job times. A job's generation is aborted when every request waiting for it has gone.
import { ApiError } from './errors.js';

interface Job {
    promise: Promise<unknown>;
    controller: AbortController;
    waiters: number;
}

export class WorkQueue {
    readonly slots: number;
    readonly queueLimit: number;
    readonly #jobs = new Map<string, Job>();
    #active = 0;
    #seq = 0;
    /** Moving average of job seconds, for Retry-After. */
    #jobSeconds = 1;

    constructor(slots: number, queueLimit: number) {
        this.slots = slots;
        this.queueLimit = queueLimit;
    }

    /** Jobs admitted and not finished. */
    get active(): number {
        return this.#active;
    }

    /** Jobs the guard's slots are busy with (as far as the server can tell: the first `slots` of those admitted). */
    get running(): number {
        return Math.min(this.#active, this.slots);
    }

    /** Jobs admitted beyond the slots: waiting for one. */
    get queued(): number {
        return Math.max(0, this.#active - this.slots);
    }

    /**
     * Runs `task` as a job, or joins the running job with the same `key` (undefined: never shared). Rejects with
     * a 429 ApiError when the queue is full, and with the signal's reason when this request's `signal` aborts.
     */
    run<T>(key: string | undefined, task: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
        signal.throwIfAborted();
        let job = key === undefined ? undefined : this.#jobs.get(key);
        if (!job) job = this.#start(key ?? `unshared:${this.#seq++}`, task as (s: AbortSignal) => Promise<unknown>);
        const joined = job;
        joined.waiters++;
        return new Promise<T>((resolve, reject) => {
            let left = false;
            const leave = () => {
                if (left) return;
                left = true;
                signal.removeEventListener('abort', onAbort);
                if (--joined.waiters === 0) joined.controller.abort(signal.reason);
            };
            const onAbort = () => {
                leave();
                reject(signal.reason);
            };
            signal.addEventListener('abort', onAbort, { once: true });
            joined.promise.then(
                (value) => {
                    if (left) return;
                    left = true;
                    signal.removeEventListener('abort', onAbort);
                    joined.waiters--;
                    resolve(value as T);
                },
                (error) => {
                    if (left) return;
                    left = true;
                    signal.removeEventListener('abort', onAbort);
                    joined.waiters--;
                    reject(error);
                },
            );
        });
    }

    #start(key: string, task: (signal: AbortSignal) => Promise<unknown>): Job {
        if (this.#active >= this.slots + this.queueLimit) {
            const waves = Math.ceil((this.queued + 1) / this.slots);
            const retryAfter = Math.max(1, Math.ceil(waves * this.#jobSeconds));
            throw new ApiError(429, `The server is busy (${this.#active} assessments admitted): retry later`, {
                type: 'rate_limit_error',
                code: 'queue_full',
                headers: { 'retry-after': String(retryAfter) },
            });
        }
        this.#active++;
        const controller = new AbortController();
        const started = performance.now();
        const promise = (async () => {
            try {
                return await task(controller.signal);
            } finally {
                this.#active--;
                this.#jobs.delete(key);
                this.#jobSeconds = 0.8 * this.#jobSeconds + 0.2 * ((performance.now() - started) / 1000);
            }
        })();
        promise.catch(() => {}); // its waiters handle the error; a job left by all of them must not go unhandled
        const job: Job = { promise, controller, waiters: 0 };
        this.#jobs.set(key, job);
        return job;
    }
}
