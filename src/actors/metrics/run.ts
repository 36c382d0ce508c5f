/** One run of a scenario with its metrics (what compare and sweep repeat over seeds and policies). */
import type { Scenario } from '../../core/scenario/schema.js';
import type { PolicyFactory } from '../scheduler/policy.js';
import { Simulation } from '../simulation.js';
import type { RunSummary } from '../summary.js';
import { MetricsCollector, type RunMetrics } from './collector.js';
import { TimelineRecorder, type RunInterval } from './timeline.js';
import { RequestMetrics, scenarioServers, type RequestMetricsReport } from './requests.js';

export interface MeasuredRun {
  readonly simulation: Simulation;
  readonly summary: RunSummary;
  readonly metrics: RunMetrics;
  /** Request metrics of the run's workloads (src/actors/metrics/requests.ts; empty totals when none). */
  readonly requests: RequestMetricsReport;
  /** Run intervals up to `timelineNs` (empty when not asked for). */
  readonly timeline: readonly RunInterval[];
}

export function runWithMetrics(
  scenario: Scenario,
  options: {
    readonly seed?: number;
    readonly policy?: PolicyFactory;
    readonly scenarioFile?: string;
    readonly readProgram?: (path: string) => string;
    readonly timelineNs?: number;
  } = {},
): MeasuredRun {
  const { timelineNs, ...simulationOptions } = options;
  const simulation = new Simulation({ scenario, ...simulationOptions });
  const collector = new MetricsCollector(simulation.bus, simulation.vms.map((vm) => vm.name));
  const requests = new RequestMetrics(simulation.bus, scenarioServers(scenario.vms));
  const recorder = timelineNs === undefined ? undefined : new TimelineRecorder(simulation.bus, timelineNs);
  const summary = simulation.run();
  return { simulation, summary, metrics: collector.finish(simulation), requests: requests.finish(simulation.kernel.now), timeline: recorder?.finish(simulation.kernel.now) ?? [] };
}
