// Audits beyond one machine: a scan as chunk jobs on a BullMQ queue in Redis.
export { enqueueScan, type EnqueueOptions, type EnqueueResult } from './enqueue.js';
export { runWorker, QueueModelMismatchError, type RunWorkerOptions, type WorkerSummary } from './worker.js';
export { queueStatus, type QueueStatus, type QueueStatusOptions, type WorkerStatus } from './status.js';
export { queueResults, type QueueResultsOptions, type QueueResultsSummary } from './results.js';
export { pauseQueue, resumeQueue, retryFailed, drainQueue } from './control.js';
export { QueueSettingsError, type QueueSettings, type QueueSampling } from './settings.js';
export { modelPairDigest, type ModelPairDigest } from './model-digest.js';
export { ImageReadError, type FetchLimits } from './read-image.js';
export type { QueueTarget } from './connection.js';
export type { ChunkResult } from './chunk-processor.js';
