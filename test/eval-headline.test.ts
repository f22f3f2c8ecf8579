// The printed headline table of `llavaguard eval` for figures that are undefined or have no intervals.
import t from 'tap';
import { formatHeadline } from '../lib/cli/commands/eval.js';
import { computeMetrics } from '../lib/eval/metrics.js';

t.test('formatHeadline: undefined figures read n/a, no intervals without resamples', async (t) => {
    const m = computeMetrics(
        [
            { expected: 'Safe', predicted: 'Safe' },
            { expected: 'Safe', predicted: null },
        ],
        { resamples: 0 },
    );
    const text = formatHeadline(m, { score: true });
    t.match(text, /^Recall \(unsafe\)\s+n\/a\s+-\s+0\/0$/m, 'no positives: recall undefined');
    t.match(text, /^Balanced accuracy\s+n\/a\s+-\s+\(TP 0\/0 \+ TN 1\/2\) \/ 2$/m);
    t.match(text, /^Specificity\s+50\.0%\s+-\s+1\/2$/m, 'the unparseable output counts as wrong');
    t.match(text, /^ROC AUC\s+n\/a\s+-\s+0\/0 pairs$/m, '--score without usable scores');
    t.match(text, /2 records; unparseable outputs counted as wrong; no intervals \(--resamples 0\)/);
    t.match(text, /\(unparseable: 0 expected Unsafe, 1 expected Safe\)/);
    t.notMatch(text, /By kind/, 'no detail table for a plain set without unsafe samples');
});
