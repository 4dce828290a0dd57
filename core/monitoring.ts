/**
 * Monitoring over stored telemetry, one module per job (issue #18):
 * - telemetry-facts.ts: events reduced to what monitoring reads, shared labels;
 * - metrics.ts: per-version, per-day (or hour) metrics and corrected pairs;
 * - drift-series.ts: label-free drift against a reference window;
 * - quality.ts: the data-quality report.
 * (core/review.ts decides which corrections may be accepted automatically.)
 * This file only re-exports them, for importers that want all of it.
 */
export * from './telemetry-facts.ts';
export * from './metrics.ts';
export * from './drift-series.ts';
export * from './quality.ts';
