/**
 * Test helpers: resolved scenarios built in code, and one-call runs of guest programs.
 */
import { Simulation } from '../src/actors/simulation.js';
import type { RunSummary } from '../src/actors/summary.js';
import type { SimEvent } from '../src/core/events.js';
import { LogWriter } from '../src/core/log/writer.js';
import { loadScenario, ScenarioError } from '../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../src/guests/index.js';
import type { Scenario, VmSpec } from '../src/core/scenario/schema.js';
import { testScenario, vmSpec } from '../src/testing/scenario.js';

export { vmSpec };

export function inline(source: string): VmSpec['guest'] {
  return { kind: 'inline', source, line: 1 };
}

export function scenario(vms: VmSpec[], overrides: Partial<Omit<Scenario, 'vms'>> = {}): Scenario {
  return testScenario(vms, { name: 'test', host: { pcpus: 1, memoryBytes: 64 * 1024 * 1024 }, ...overrides });
}

export interface TestRun {
  readonly simulation: Simulation;
  readonly summary: RunSummary;
  readonly events: SimEvent[];
  readonly log: string;
}

/** Runs a scenario, collecting every event and the log text. */
export function runScenario(s: Scenario, seed?: number): TestRun {
  let log = '';
  const writer = new LogWriter((chunk) => (log += chunk));
  const simulation = new Simulation({ scenario: s, seed, log: writer });
  const events: SimEvent[] = [];
  simulation.bus.events$.subscribe((event) => events.push(event));
  const summary = simulation.run();
  return { simulation, summary, events, log };
}

/** Runs one inline program alone on one physical CPU. */
export function runProgram(source: string, overrides: Partial<VmSpec> = {}, scenarioOverrides: Partial<Omit<Scenario, 'vms'>> = {}): TestRun {
  return runScenario(scenario([vmSpec('guest', inline(source), overrides)], scenarioOverrides));
}

export function consoleOf(run: TestRun, vm: string): string[] {
  return run.events.filter((event) => event.type === 'console.output' && event.src === `vm/${vm}/console`).map((event) => (event.data as { text: string }).text);
}

export function typesOf(run: TestRun): string[] {
  return run.events.map((event) => event.type);
}

/** Loads scenario text as `s.yaml`; returns the lines of its ScenarioError ([] when it loads). */
export function scenarioErrors(text: string): string[] {
  try {
    loadScenario(text, { file: 's.yaml', guests: BUNDLED_GUEST_NAMES });
    return [];
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    return error.message.split('\n');
  }
}
