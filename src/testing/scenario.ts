/**
 * Building resolved scenarios in code and running them for a checker: the VM and scenario
 * builders every property uses, and one call that runs a scenario (optionally under a mutant)
 * and hands back the simulation, its summary, every event and the log text.
 */
import { stringify } from 'yaml';
import { Simulation } from '../actors/simulation.js';
import { partsOf, type Mutation } from './mutants/index.js';
import type { RunSummary } from '../actors/summary.js';
import type { SimEvent } from '../core/events.js';
import { LogWriter } from '../core/log/writer.js';
import { scenarioToSource } from '../core/scenario/load.js';
import type { Scenario, VmSpec } from '../core/scenario/schema.js';

/** A VM running `guest`, with defaults for everything else (one vCPU, 64 KiB, autostarted). */
export function vmSpec(name: string, guest: VmSpec['guest'], overrides: Partial<VmSpec> = {}): VmSpec {
  return {
    name,
    vcpus: 1,
    memoryBytes: 64 * 1024,
    guest,
    params: {},
    startNs: 0,
    autostart: true,
    sched: { weight: 256, cap: 0 },
    ...overrides,
  };
}

/** A VM running `source` (assembly text), with defaults for everything else. */
export function guestVm(name: string, source: string, overrides: Partial<VmSpec> = {}): VmSpec {
  return vmSpec(name, { kind: 'inline', source, line: 1 }, overrides);
}

/** A resolved scenario with small defaults: one physical CPU, 16 MiB, round-robin, 10 ms. */
export function testScenario(vms: readonly VmSpec[], overrides: Partial<Omit<Scenario, 'vms'>> = {}): Scenario {
  return {
    name: 'property',
    description: undefined,
    seed: 1,
    host: { pcpus: 1, memoryBytes: 16 * 1024 * 1024 },
    scheduler: { policy: 'round-robin', quantumNs: 1_000_000 },
    run: { timeNs: 10_000_000, instructions: undefined, checkpointEvery: 10_000 },
    costs: {},
    vms,
    inputs: [],
    ...overrides,
  };
}

export interface CheckedRun {
  readonly simulation: Simulation;
  readonly summary: RunSummary;
  readonly events: readonly SimEvent[];
  /** The event log's text (only when asked for with `log: true`). */
  readonly log: string;
}

export interface RunOptions {
  readonly seed?: number;
  readonly mutation?: Mutation | undefined;
  /** Write the event log (costs time: only the determinism property and the fuzzer need it). */
  readonly log?: boolean;
  /** Ends the run early, after the step that publishes an event this returns true for. */
  readonly stopWhen?: (event: SimEvent) => boolean;
}

/** Runs a scenario to its end, collecting every event. */
export function runChecked(scenario: Scenario, options: RunOptions = {}): CheckedRun {
  let log = '';
  const events: SimEvent[] = [];
  const stopWhen = options.stopWhen;
  const simulation: Simulation = new Simulation({
    scenario,
    seed: options.seed,
    parts: partsOf(options.mutation),
    log: options.log === true ? new LogWriter((chunk) => (log += chunk)) : undefined,
    sink: (event) => {
      events.push(event);
      // The run stops at the end of the current kernel step, as an operator's stop would.
      if (stopWhen !== undefined && stopWhen(event)) simulation.monitor.stopRun();
    },
  });
  const summary = simulation.run();
  return { simulation, summary, events, log };
}

/** A scenario as a YAML file `vmmsim run` loads (the resolved form: every default written out). */
export function scenarioYaml(scenario: Scenario, comment = ''): string {
  const header = comment === '' ? '' : comment.split('\n').map((line) => `# ${line}`.trimEnd()).join('\n') + '\n';
  return header + stringify(scenarioToSource(scenario), { lineWidth: 0 });
}
