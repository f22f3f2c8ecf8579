// The scan report: a results JSONL as a static HTML page (totals, chart, unsafe gallery, errors).
export { writeScanReport, type ScanReportOptions, type ScanReportResult } from './report.js';
export { readScanResults, type ScanResults } from './read.js';
export { summarize, NO_CATEGORY, type CategoryCount, type ReportTotals } from './summary.js';
export { renderScanReport, type ErrorItem, type GalleryItem, type ScanReportView } from './html.js';
export { escapeHtml } from './escape.js';
export { makeThumbnail, thumbnailName, type Thumbnail } from './thumbs.js';
