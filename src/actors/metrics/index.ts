/** Metrics of a run, measured from the bus and the actors' counters. */
export { MetricsCollector, jain, latencyStats, percentile, waterFill } from './collector.js';
export type { LatencyStats, RunMetrics, SystemMetrics, VmMetrics } from './collector.js';
export { runWithMetrics, type MeasuredRun } from './run.js';
