// Scanning a collection: sources, records, the crash-safe writer and the engine.
export { scanImages, type ScanGuard, type ScanOptions, type ScanSummary } from './scan.js';
export {
    entryRoot,
    listImages,
    parseShard,
    shardOf,
    type ListOptions,
    type ScanEntry,
    type ScanSource,
    type Shard,
} from './sources.js';
export { ManifestError, pathsFromCsv, pathsFromJsonl } from './manifest.js';
export { sniffImageFormat } from './sniff.js';
export * from './records.js';
export {
    JsonlWriter,
    readExistingLines,
    ScanOutputError,
    type ExistingLines,
    type JsonlWriterOptions,
} from './jsonl-writer.js';
export { prefetch } from './prefetch.js';
export { formatSummary } from './summary-table.js';
export { CSV_COLUMNS, exportCsv, recordsToCsv } from './csv-export.js';
