// Evaluation on labelled sets as in the LlavaGuard paper: manifests, policy-exception
// augmentation, metrics with bootstrap intervals, an HTML report and run-to-run comparison.
export {
    EvalManifestError,
    SCORES,
    loadManifest,
    parseManifest,
    selectSplit,
    type EvalSample,
    type ManifestIssue,
    type ParseManifestOptions,
    type Score,
} from './manifest.js';
export {
    SAMPLE_KINDS,
    augment,
    type AugmentOptions,
    type AugmentedSample,
    type ExceptionKind,
    type SampleKind,
} from './augment.js';
export {
    FIGURE_NAMES,
    METRICS_FORMAT,
    computeMetrics,
    formatFigure,
    percentile,
    type EvalMetrics,
    type Figure,
    type FigureName,
    type Interval,
    type MetricsOptions,
    type Outcome,
    type ThresholdRow,
} from './metrics.js';
export { FIGURE_LABELS, escapeHtml, renderReport, type ReportOptions, type ReportRecord } from './report-html.js';
export { compareMetrics, formatComparison, loadMetrics, type Comparison, type ComparisonRow } from './compare.js';
export {
    outcomeOf,
    readRecords,
    runEval,
    type EvalGuard,
    type EvalRecord,
    type EvalRun,
    type RunEvalOptions,
} from './run.js';
export { hashSeed, mulberry32 } from './random.js';
