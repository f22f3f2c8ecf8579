import type { GenerateOptions, GenerateResult, VisionContext } from '../runtime/VisionContext.js';

interface Pending {
    request: GenerateOptions;
    resolve(result: GenerateResult): void;
    reject(error: unknown): void;
}

/**
 * Gathers generations that are waiting at the same time into one batched call over the context's sequence
 * slots: prompts prefilled one after another, decode steps of all of them in one llama_decode. With one slot
 * it is a plain queue.
 */
export class AssessmentBatcher {
    readonly #ctx: VisionContext;
    readonly #slots: number;
    readonly #pending: Pending[] = [];
    #scheduled = false;

    constructor(ctx: VisionContext) {
        this.#ctx = ctx;
        this.#slots = ctx.info.sequences;
    }

    generate(request: GenerateOptions): Promise<GenerateResult> {
        return new Promise((resolve, reject) => {
            this.#pending.push({ request, resolve, reject });
            this.#schedule();
        });
    }

    #schedule(): void {
        if (this.#scheduled || this.#pending.length === 0) return;
        this.#scheduled = true;
        // Taken from the queue only when the context gets to it, so everything that arrived meanwhile joins.
        this.#ctx
            .exclusive(async (direct) => {
                this.#scheduled = false;
                const batch = this.#pending.splice(0, this.#slots);
                try {
                    const results = await direct.generateMany(batch.map((p, i) => ({ ...p.request, sequence: i })));
                    results.forEach((r, i) => batch[i]!.resolve(r));
                } catch (error) {
                    // One bad request must not fail the others: retry them one by one.
                    if (batch.length === 1) batch[0]!.reject(error);
                    else
                        for (const p of batch)
                            await direct
                                .generateMany([{ ...p.request, sequence: 0 }])
                                .then(([r]) => p.resolve(r!), p.reject);
                }
                this.#schedule();
            })
            .catch((error) => {
                this.#scheduled = false;
                for (const p of this.#pending.splice(0)) p.reject(error);
            });
    }
}
