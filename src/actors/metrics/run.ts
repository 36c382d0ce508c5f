/** One run of a scenario with its metrics (what compare and sweep repeat over seeds and policies). */
import type { Scenario } from '../../core/scenario/schema.js';
import type { PolicyFactory } from '../scheduler/policy.js';
import { Simulation } from '../simulation.js';
import type { RunSummary } from '../summary.js';
import { MetricsCollector, type RunMetrics } from './collector.js';

export interface MeasuredRun {
  readonly simulation: Simulation;
  readonly summary: RunSummary;
  readonly metrics: RunMetrics;
}

export function runWithMetrics(
  scenario: Scenario,
  options: { readonly seed?: number; readonly policy?: PolicyFactory; readonly scenarioFile?: string; readonly readProgram?: (path: string) => string } = {},
): MeasuredRun {
  const simulation = new Simulation({ scenario, ...options });
  const collector = new MetricsCollector(simulation.bus, simulation.vms.map((vm) => vm.name));
  const summary = simulation.run();
  return { simulation, summary, metrics: collector.finish(simulation) };
}
