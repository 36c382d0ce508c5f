/** Metrics of a run, measured from the bus and the actors' counters. */
export { MetricsCollector, histogramStats, jain, latencyHistogram, latencyStats, percentile, waterFill } from './collector.js';
export type { LatencyStats, RunMetrics, SystemMetrics, VmMetrics } from './collector.js';
export { flattenMetrics, SYSTEM_METRICS, VM_METRICS, type MetricInfo } from './flatten.js';
export { runWithMetrics, type MeasuredRun } from './run.js';
export { TimelineRecorder, type RunInterval } from './timeline.js';
export { flattenRequestMetrics, RequestMetrics, scenarioServers } from './requests.js';
export type { Distribution, RequestMetricsReport, RequestStats, VmRequestStats } from './requests.js';
