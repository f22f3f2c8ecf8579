// A bounded, order-keeping read-ahead: the next `depth` items are prepared while the consumer
// works on the current one, so I/O and decoding overlap inference without memory growing.

/** Yields `prepare(item)` for each item, in input order, with at most `depth` preparations ahead of the consumer. */
export async function* prefetch<T, R>(
    items: Iterable<T>,
    depth: number,
    prepare: (item: T) => Promise<R>,
): AsyncGenerator<R, void, undefined> {
    if (!(Number.isInteger(depth) && depth >= 1)) throw new RangeError('prefetch depth must be an integer ≥ 1');
    const it = items[Symbol.iterator]();
    const queue: Promise<R>[] = [];
    const refill = () => {
        while (queue.length < depth) {
            const next = it.next();
            if (next.done) return;
            const p = prepare(next.value);
            p.catch(() => {}); // abandoned when the consumer stops early; awaited (and thrown) otherwise
            queue.push(p);
        }
    };
    refill();
    while (queue.length > 0) {
        const result = await queue.shift()!;
        refill();
        yield result;
    }
}
