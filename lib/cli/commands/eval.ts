// `llavaguard eval`: a labelled set through runEval (metrics.json, records.jsonl, report.html),
// with the headline figures printed as a table; `llavaguard eval --compare DIR1 DIR2` sets two
// finished runs side by side.
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { augment, type ExceptionKind } from '../../eval/augment.js';
import { compareMetrics, formatComparison, loadMetrics } from '../../eval/compare.js';
import { loadManifest } from '../../eval/manifest.js';
import type { EvalMetrics, Figure, FigureName } from '../../eval/metrics.js';
import { runEval } from '../../eval/run.js';
import { LlavaGuard } from '../../guard/LlavaGuard.js';
import { Policy } from '../../policy/index.js';
import * as flags from '../model-options.js';
import { collect, parseInteger } from '../options.js';

interface EvalCliOptions extends Partial<flags.ModelCliOptions>, flags.SamplingCliOptions {
    compare?: boolean;
    policy?: string;
    out?: string;
    augment: 'none' | 'paper';
    kinds?: string[];
    score?: boolean;
    split?: string;
    resamples?: number;
    invalid: 'wrong' | 'exclude';
    thumbnails?: boolean;
    title?: string;
}

const EXCEPTION_KINDS: readonly ExceptionKind[] = ['v2', 'v3', 'v4', 'v5'];

const kindsOption = (value: string, previous?: string[]): string[] => {
    const list = collect(value, previous);
    for (const k of list) {
        if (!(EXCEPTION_KINDS as readonly string[]).includes(k))
            throw new InvalidArgumentError(`--kinds: unknown variant "${k}" (expected ${EXCEPTION_KINDS.join(', ')})`);
    }
    return list;
};

export function registerEval(program: Command): void {
    const command = program
        .command('eval')
        .description(
            'evaluate a model on a labelled set as in the LlavaGuard paper: metrics with 95% intervals, records and an HTML report; or compare two runs',
        )
        .usage(
            '<manifest> --model <file> --mmproj <file> --out <dir> [options]\n       llavaguard eval --compare <dir1> <dir2>',
        )
        .argument(
            '[paths...]',
            'the manifest (.jsonl or .csv: path, rating, category, score?, split?); with --compare, two output folders (or metrics.json files)',
        )
        .option(
            '--compare',
            'print the figures of two earlier runs side by side (B - A and whether the intervals overlap)',
        );
    flags
        .addModelOptions(command, { required: false })
        .option(
            '-o, --out <dir>',
            'folder for metrics.json, records.jsonl and report.html (created; earlier files there are replaced)',
        )
        .option(
            '-p, --policy <file>',
            'base policy JSON the labels refer to (see Policy.save); default: the policy the model was trained with',
        )
        .addOption(
            new Option(
                '--augment <mode>',
                'policy-exception variants: paper adds v2 (own category allowed, expected Safe) and v4 (own category sensitive, expected Unsafe)',
            )
                .choices(['none', 'paper'])
                .default('none'),
        )
        .option(
            '--kinds <list>',
            'variants --augment paper adds (comma-separated, from v2,v3,v4,v5; default v2,v4)',
            kindsOption,
        )
        .option(
            '--seed <n>',
            'seed of the augmentation, the sampling and the bootstrap (default 0)',
            parseInteger('--seed', 0, 0xffffffff),
        )
        .option(
            '--score',
            'also read P(Unsafe) from the logits for every item: ROC AUC and a threshold table (one more prompt evaluation per item)',
        )
        .option('--split <name>', 'only the samples of this split')
        .option(
            '--resamples <n>',
            'bootstrap resamples for the intervals (default 1000; 0 = none)',
            parseInteger('--resamples', 0, 1_000_000),
        )
        .addOption(
            new Option(
                '--invalid <how>',
                'unparseable outputs and failed assessments: count as wrong, or exclude from every figure but "unparseable"',
            )
                .choices(['wrong', 'exclude'])
                .default('wrong'),
        );
    flags.addSamplingOptions(command, { seed: false });
    flags
        .addRuntimeOptions(command)
        .option('--thumbnails', 'thumbnails of the misclassified images in report.html')
        .option('--title <text>', 'title of report.html')
        .action(async (paths: string[], options: EvalCliOptions, command: Command) => {
            if (options.compare) {
                const given = (['model', 'mmproj', 'out', 'policy', 'split', 'score'] as const).filter(
                    (k) => options[k] !== undefined,
                );
                if (given.length)
                    command.error(
                        `error: --compare reads two finished runs; it takes no ${given.map((k) => `--${k}`).join(', ')}`,
                    );
                if (paths.length !== 2)
                    command.error(
                        `error: --compare needs two output folders (or metrics.json files), got ${paths.length}`,
                    );
                await compareRuns(paths[0], paths[1]);
                return;
            }
            if (paths.length !== 1) {
                command.error(
                    paths.length === 0
                        ? 'error: missing the manifest (eval <manifest> --model F --mmproj F --out DIR)'
                        : `error: eval takes one manifest, got ${paths.length} (${paths.join(' ')}); did you mean --compare?`,
                );
            }
            const missing = (['model', 'mmproj', 'out'] as const).filter((k) => !options[k]);
            if (missing.length) command.error(`error: eval needs ${missing.map((k) => `--${k}`).join(', ')}`);
            if (options.kinds && options.augment !== 'paper')
                command.error('error: --kinds only applies with --augment paper');
            await evaluate(paths[0], options as EvalCliOptions & { model: string; mmproj: string; out: string });
        });
}

async function evaluate(
    manifest: string,
    options: EvalCliOptions & { model: string; mmproj: string; out: string },
): Promise<void> {
    // the manifest, the split and the augmentation are checked before the model loads
    const policy = options.policy ? await Policy.load(options.policy) : undefined;
    if (!(await isFile(manifest))) throw new Error(`manifest ${manifest} does not exist or is not a file`);
    const all = await loadManifest(manifest, { policy: policy ?? Policy.default('v1.2') });
    const samples = options.split === undefined ? all : all.filter((s) => s.split === options.split);
    if (samples.length === 0) {
        const splits = [...new Set(all.map((s) => s.split).filter((s) => s !== undefined))];
        throw new Error(
            options.split === undefined
                ? `manifest ${manifest} has no samples`
                : `no samples in split "${options.split}" of ${manifest} (${splits.length ? `splits: ${splits.join(', ')}` : 'it has no splits'})`,
        );
    }
    const outInfo = await stat(options.out).catch(() => null);
    if (outInfo && !outInfo.isDirectory()) throw new Error(`--out ${options.out} exists and is not a folder`);
    const kinds = options.kinds as ExceptionKind[] | undefined;
    const total = augment(samples, {
        mode: options.augment,
        seed: options.seed ?? 0,
        basePolicy: policy ?? Policy.default('v1.2'),
        kinds,
    }).length;

    const guard = await LlavaGuard.load(flags.guardLoadOptions(options));
    const controller = new AbortController();
    const stopListening = flags.abortOnFirstInterrupt(controller, 'stopping');
    const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
              {
                  format: '{bar} {value}/{total} | ETA {eta_formatted}',
                  hideCursor: true,
                  clearOnComplete: true,
                  stream: process.stderr,
              },
              cliProgress.Presets.shades_classic,
          )
        : undefined;
    try {
        if (guard.modelInfo.randomWeights) console.error(flags.RANDOM_WEIGHTS_NOTE);
        bar?.start(total, 0);
        const run = await runEval(guard, manifest, {
            out: options.out,
            augment: options.augment,
            kinds,
            seed: options.seed,
            basePolicy: policy,
            split: options.split,
            resamples: options.resamples,
            invalid: options.invalid,
            score: options.score,
            thumbnails: options.thumbnails,
            title: options.title,
            assess: {
                temperature: options.temperature,
                maxTokens: options.maxTokens,
                maxRationaleChars: options.maxRationaleChars,
            },
            signal: controller.signal,
            onProgress: (done) => bar?.update(done),
        });
        bar?.stop();
        console.log(formatHeadline(run.metrics, { score: options.score }));
        const errors = run.records.filter((r) => r.error).length;
        if (errors)
            console.error(
                `note: ${errors} of ${run.records.length} assessments failed (see "error" in ${run.files.records}); they count as unparseable`,
            );
        console.log(`records: ${run.files.records}\nmetrics: ${run.files.metrics}\nreport:  ${run.files.report}`);
    } catch (error) {
        if (controller.signal.aborted) {
            bar?.stop();
            console.error(
                `interrupted: the records so far are in ${join(options.out, 'records.jsonl')}; no metrics were written`,
            );
            process.exitCode = 130;
            return;
        }
        throw error;
    } finally {
        bar?.stop();
        stopListening();
        await guard.close();
    }
}

async function compareRuns(a: string, b: string): Promise<void> {
    const [ma, mb] = [await metricsAt(a), await metricsAt(b)];
    let labels: [string, string] = [basename(resolve(a)), basename(resolve(b))];
    if (labels[0] === labels[1] || labels.some((l) => l === 'metrics.json')) labels = ['A', 'B'];
    console.log(`A: ${a}\nB: ${b}\n`);
    console.log(formatComparison(compareMetrics(ma, mb, { labels })).trimEnd());
    console.log(
        '\nB-A in percentage points; "CI overlap: NO" (the 95% intervals do not overlap) is a conservative sign of a real difference, "yes" does not prove there is none.',
    );
}

async function metricsAt(path: string): Promise<EvalMetrics> {
    const info = await stat(path).catch(() => null);
    if (!info)
        throw new Error(`${path} does not exist (expected the --out folder of an eval run, or its metrics.json)`);
    const file = info.isDirectory() ? join(path, 'metrics.json') : path;
    if (info.isDirectory() && !(await isFile(file)))
        throw new Error(`${path} has no metrics.json (is it the --out folder of a finished eval run?)`);
    try {
        return await loadMetrics(file);
    } catch (error) {
        if (error instanceof SyntaxError) throw new Error(`${file} is not valid JSON: ${error.message}`);
        throw error;
    }
}

const isFile = (path: string) =>
    stat(path).then(
        (s) => s.isFile(),
        () => false,
    );

const HEADLINE: readonly [FigureName, string][] = [
    ['balancedAccuracy', 'Balanced accuracy'],
    ['recall', 'Recall (unsafe)'],
    ['precision', 'Precision'],
    ['f1', 'F1'],
    ['specificity', 'Specificity'],
    ['per', 'PER'],
    ['categoryAccuracy', 'Category accuracy'],
    ['unparseable', 'Unparseable'],
];

/**
 * The headline figures as a plain-text table (value, interval, count), then the confusion matrix,
 * accuracy by sample kind and recall by category. AUC is shown with `score` (or when the metrics have it).
 */
export function formatHeadline(m: EvalMetrics, options: { score?: boolean } = {}): string {
    const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
    const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
    const level = Math.round(m.bootstrap.level * 100);
    const c = m.confusion;
    const P = c.tp + c.fn;
    const N = c.tn + c.fp;
    const countOf = (name: FigureName, f: Figure): string => {
        if (name === 'balancedAccuracy') return `(TP ${c.tp}/${P} + TN ${c.tn}/${N}) / 2`;
        if (name === 'auc') return `${num(f.num)}/${num(f.den)} pairs`;
        return `${num(f.num)}/${num(f.den)}`;
    };
    const cells = (f: Figure) => [
        f.value === null ? 'n/a' : pct(f.value),
        f.ci ? `[${pct(f.ci.low)}, ${pct(f.ci.high)}]` : '-',
    ];
    const names = [...HEADLINE];
    if (options.score || m.figures.auc.den > 0) names.push(['auc', 'ROC AUC']);
    const rows = names.map(([name, label]) => [label, ...cells(m.figures[name]), countOf(name, m.figures[name])]);
    const header = ['Metric', 'Value', `${level}% CI`, 'Count'];
    const table = (head: string[], body: string[][]) => {
        const all = [head, ...body];
        const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
        const line = (r: string[]) =>
            r
                .map((x, i) => (i === 0 || i === r.length - 1 ? x.padEnd(widths[i]) : x.padStart(widths[i])))
                .join('  ')
                .trimEnd();
        return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
    };
    const out = [table(header, rows)];

    const b = m.bootstrap;
    const unit = b.unit === 'group' ? 'source images (an image and its variants together)' : 'records';
    out.push(
        '',
        `${m.n} records; unparseable outputs counted as ${m.invalid === 'wrong' ? 'wrong' : 'excluded'}; ` +
            (b.resamples > 0
                ? `${level}% percentile intervals from ${b.resamples} bootstrap resamples of ${unit}, seed ${b.seed}`
                : 'no intervals (--resamples 0)'),
    );
    out.push(
        `Confusion (Unsafe = positive): TP ${c.tp}  FN ${c.fn}  TN ${c.tn}  FP ${c.fp}` +
            (c.unparseable.unsafe + c.unparseable.safe > 0
                ? `  (unparseable: ${c.unparseable.unsafe} expected Unsafe, ${c.unparseable.safe} expected Safe)`
                : ''),
    );

    const kinds = Object.entries(m.byKind);
    const cats = Object.entries(m.perCategory);
    if (kinds.length > 1 || cats.length > 0) {
        const detail = [
            ...kinds.map(([k, f]) => [`Accuracy ${k}`, ...cells(f), `${num(f.num)}/${num(f.den)}`]),
            ...cats.map(([cat, f]) => [`Recall ${cat}`, ...cells(f), `${num(f.num)}/${num(f.den)}`]),
        ];
        out.push('', table(['By kind / category', 'Value', `${level}% CI`, 'Count'], detail));
    }
    return out.join('\n');
}
