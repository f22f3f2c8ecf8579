// Prometheus metrics (prom-client) in a registry of the server's own, so that several servers, or an app that
// has its own default registry, do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkQueue } from './work.js';

const PHASE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** images/s is averaged over this window. */
const RATE_WINDOW_MS = 60_000;

export interface PhaseTimings {
    imageMs: number;
    promptMs: number;
    decodeMs?: number;
}

export class ServerMetrics {
    readonly registry = new Registry();
    readonly #requests: Counter<'route' | 'status'>;
    readonly #duration: Histogram<'route'>;
    readonly #encode: Histogram;
    readonly #prefill: Histogram;
    readonly #decode: Histogram;
    readonly #images: Counter;
    readonly #recent: number[] = [];

    constructor(work: WorkQueue, slots: number) {
        const registers = [this.registry];
        collectDefaultMetrics({ register: this.registry, prefix: 'llavaguard_' });
        this.#requests = new Counter({
            name: 'llavaguard_http_requests_total',
            help: 'HTTP requests answered, by route and status code',
            labelNames: ['route', 'status'],
            registers,
        });
        this.#duration = new Histogram({
            name: 'llavaguard_http_request_duration_seconds',
            help: 'Time from a request to its answer, by route',
            labelNames: ['route'],
            buckets: PHASE_BUCKETS,
            registers,
        });
        const phase = (name: string, help: string) =>
            new Histogram({ name: `llavaguard_${name}_seconds`, help, buckets: PHASE_BUCKETS, registers });
        this.#encode = phase('image_encode', 'Image encoding (pipeline and vision tower) of one assessment');
        this.#prefill = phase('prefill', 'Prompt prefill of one assessment');
        this.#decode = phase('decode', 'Answer decoding of one assessment');
        this.#images = new Counter({ name: 'llavaguard_images_total', help: 'Images assessed', registers });
        const recent = this.#recent;
        new Gauge({
            name: 'llavaguard_images_per_second',
            help: `Images assessed per second over the last ${RATE_WINDOW_MS / 1000} s`,
            registers,
            collect() {
                const since = performance.now() - RATE_WINDOW_MS;
                while (recent.length > 0 && recent[0]! < since) recent.shift();
                this.set(recent.length / (RATE_WINDOW_MS / 1000));
            },
        });
        new Gauge({
            name: 'llavaguard_queue_depth',
            help: 'Assessments admitted and waiting for a sequence slot',
            registers,
            collect() {
                this.set(work.queued);
            },
        });
        new Gauge({
            name: 'llavaguard_slots_busy',
            help: 'Sequence slots busy with an assessment',
            registers,
            collect() {
                this.set(work.running);
            },
        });
        new Gauge({ name: 'llavaguard_slots', help: 'Sequence slots (--parallel)', registers }).set(slots);
    }

    request(route: string, status: number, seconds: number): void {
        this.#requests.inc({ route, status: String(status) });
        this.#duration.observe({ route }, seconds);
    }

    /** One image assessed, with the time of each phase. */
    assessed(t: PhaseTimings): void {
        this.#images.inc();
        this.#recent.push(performance.now());
        this.#encode.observe(t.imageMs / 1000);
        this.#prefill.observe(t.promptMs / 1000);
        if (t.decodeMs !== undefined) this.#decode.observe(t.decodeMs / 1000);
    }
}
