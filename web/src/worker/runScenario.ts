/**
 * Runs a scenario the way `vmmsim run --log` does, handing the event log out in pieces as it is
 * written, and yielding between slices of events so a stop request gets through. DOM-free and
 * worker-free, so a Node test runs it and compares the text with the CLI's log.
 */
import { MetricsCollector, type RunMetrics } from '../../../src/actors/metrics/collector.js';
import { Simulation } from '../../../src/actors/simulation.js';
import type { RunSummary } from '../../../src/actors/summary.js';
import { LogWriter } from '../../../src/core/log/writer.js';
import { loadScenario } from '../../../src/core/scenario/load.js';
import { POLICY_NAMES, withPolicy, type PolicyName, type Scenario } from '../../../src/core/scenario/schema.js';
import { BUNDLED_GUEST_NAMES } from '../../../src/guests/index.js';
import { archConfigs, archRows, type ArchRow } from '../../../src/cli/archRuns.js';

/** Events simulated between two yields. */
export const SLICE_EVENTS = 20_000;

export interface RunCallbacks {
  readonly log: (text: string) => void;
  /** Called between slices; return false to stop the run there. */
  readonly yieldNow: () => Promise<boolean>;
}

export interface RunResult {
  readonly summary: RunSummary;
  readonly metrics: RunMetrics | null;
  readonly stopped: boolean;
}

/**
 * The scenario the page runs, under the policy chosen in the page if any: `withPolicy` gives the
 * chosen policy's parameters their defaults, as `vmmsim run --policy` does.
 */
export function resolveScenario(text: string, file: string, policy?: string): Scenario {
  const scenario = loadScenario(text, { file, guests: BUNDLED_GUEST_NAMES });
  if (policy === undefined || policy === '') return scenario;
  if (!(POLICY_NAMES as readonly string[]).includes(policy)) throw new RangeError(`unknown scheduling policy '${policy}' (expected one of: ${POLICY_NAMES.join(', ')})`);
  return withPolicy(scenario, policy as PolicyName);
}

export async function runScenario(scenario: Scenario, seed: number | undefined, callbacks: RunCallbacks): Promise<RunResult> {
  const writer = new LogWriter(callbacks.log);
  const simulation = new Simulation({ scenario, ...(seed === undefined ? {} : { seed }), log: writer });
  const collector = new MetricsCollector(simulation.bus, simulation.vms.map((vm) => vm.name));
  let stopped = false;
  while (simulation.runUntilEvent(simulation.bus.count - 1 + SLICE_EVENTS)) {
    writer.flush();
    if (!(await callbacks.yieldNow())) {
      stopped = true;
      break;
    }
  }
  const summary = simulation.finishRun();
  return { summary, metrics: metricsOf(collector, simulation), stopped };
}

/** The collector's metrics; a run stopped early may not have what they need (then none). */
function metricsOf(collector: MetricsCollector, simulation: Simulation): RunMetrics | null {
  try {
    return collector.finish(simulation);
  } catch {
    return null;
  }
}

/**
 * `vmmsim compare SCENARIO --arch ARCHS --virt VIRTS --json`: the same configurations, runs and
 * rows (src/cli/archRuns.ts), for a scenario given as text. Guest programs from files cannot be
 * read here (the bundled guests can).
 */
export function compareScenario(text: string, file: string, archs: readonly ('type1' | 'type2')[], virts: readonly ('full' | 'para' | 'hw')[]): ArchRow[] {
  const scenario = resolveScenario(text, file);
  const configs = archConfigs({ archs, archGiven: true, virts, pagings: undefined, ios: undefined, interrupts: undefined, profiles: [] });
  return archRows(scenario, configs, (path) => {
    throw new Error(`${file}: the page cannot read the guest program ${path} (use vmmsim compare)`);
  }, file);
}
