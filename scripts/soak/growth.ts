// The soak's pass/fail rule on its samples: over the last third of the run, RSS may grow by at most a bound (in
// percent) and open file descriptors not at all. Start and end are medians of a few samples each, so that one
// sample taken while a load or a decode was in flight does not decide the run.

export interface Sample {
    op: number;
    rssMiB: number;
    fds: number;
}

export interface GrowthVerdict {
    pass: boolean;
    reasons: string[];
    lastThird: {
        fromOp: number;
        rssStartMiB: number;
        rssEndMiB: number;
        rssGrowthPct: number;
        fdsStart: number;
        fdsEnd: number;
        fdGrowth: number;
    };
}

const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function judgeGrowth(
    samples: readonly Sample[],
    opts: { maxRssGrowthPct: number; window?: number },
): GrowthVerdict {
    const lastOp = samples.at(-1)?.op ?? 0;
    const third = samples.filter((s) => s.op >= (lastOp * 2) / 3);
    if (third.length < 2) throw new RangeError('too few samples in the last third of the run');
    const w = Math.max(1, Math.min(opts.window ?? 5, Math.floor(third.length / 2)));
    const head = third.slice(0, w);
    const tail = third.slice(-w);
    const rssStartMiB = median(head.map((s) => s.rssMiB));
    const rssEndMiB = median(tail.map((s) => s.rssMiB));
    const fdsStart = Math.min(...head.map((s) => s.fds));
    const fdsEnd = Math.min(...tail.map((s) => s.fds));
    const rssGrowthPct = ((rssEndMiB - rssStartMiB) / rssStartMiB) * 100;
    const reasons: string[] = [];
    if (rssGrowthPct > opts.maxRssGrowthPct) {
        reasons.push(
            `RSS grew ${rssGrowthPct.toFixed(2)}% over the last third, above the bound of ${opts.maxRssGrowthPct}%`,
        );
    }
    if (fdsEnd > fdsStart) reasons.push(`open file descriptors grew from ${fdsStart} to ${fdsEnd} over the last third`);
    return {
        pass: reasons.length === 0,
        reasons,
        lastThird: {
            fromOp: third[0]!.op,
            rssStartMiB,
            rssEndMiB,
            rssGrowthPct,
            fdsStart,
            fdsEnd,
            fdGrowth: fdsEnd - fdsStart,
        },
    };
}
