/**
 * Every exit crosses the bus (issue 13): a subscriber that counts `exit.*` events sees exactly the
 * exits the run summary counts per vCPU, for each of the ten reasons, over the bundled examples
 * and a guest that makes the two reasons they do not (an MMIO access and a triple fault).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Vcpu } from '../../src/actors/vcpu/vcpu.js';
import { scenarioArbitrary, type RandomRun } from '../../src/testing/arbitraries.js';
import { Simulation } from '../../src/actors/simulation.js';
import { summarize } from '../../src/actors/summary.js';
import { EXIT_REASONS, type ExitReason } from '../../src/core/events.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import type { Scenario } from '../../src/core/scenario/schema.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { guestVm, testScenario } from '../../src/testing/scenario.js';

const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples');

function example(name: string): Scenario {
  const read = (path: string) => readFileSync(resolve(EXAMPLES, path), 'utf8');
  return loadScenario(read(`${name}.yaml`), { file: `${name}.yaml`, guests: BUNDLED_GUEST_NAMES });
}

/**
 * An MMIO store to the console, then a fault in kernel mode: under hardware assistance the CPU
 * cannot deliver it (a triple fault), so it exits with reason shutdown.
 */
const MMIO_THEN_TRIPLE_FAULT = `
_start: movi r1, 0x40000000
        movi r2, 65
        st r2, [r1]
        movi r3, 0
        div r2, r2, r3
        hlt
`;

function countExits(scenario: Scenario): { bus: Record<string, number>; summary: Record<string, number> } {
  const simulation = new Simulation({ scenario, readProgram: (path) => readFileSync(resolve(EXAMPLES, path), 'utf8') });
  const bus: Record<string, number> = Object.fromEntries(EXIT_REASONS.map((reason) => [reason, 0]));
  simulation.bus.events$.subscribe((event) => {
    if (event.type.startsWith('exit.')) bus[event.type.slice('exit.'.length)]++;
  });
  simulation.run();
  const summary: Record<string, number> = Object.fromEntries(EXIT_REASONS.map((reason) => [reason, 0]));
  for (const vm of summarize(simulation, 'time').vms) for (const vcpu of vm.vcpus) for (const reason of EXIT_REASONS) summary[reason] += vcpu.exits[reason as ExitReason];
  return { bus, summary };
}

describe('every exit reason crosses the bus', () => {
  it('the bus carries exactly the exits the summary counts, for all ten reasons', () => {
    const seen = new Set<string>();
    const scenarios = [
      ...['demo', 'contention', 'misbehaving', 'smp'].map(example),
      testScenario([guestVm('m', MMIO_THEN_TRIPLE_FAULT, { virt: 'hw' })]),
    ];
    for (const scenario of scenarios) {
      const { bus, summary } = countExits(scenario);
      expect(bus, scenario.name).toEqual(summary);
      for (const reason of EXIT_REASONS) if (bus[reason] > 0) seen.add(reason);
    }
    expect([...seen].sort()).toEqual([...EXIT_REASONS].sort());
  });
});

/**
 * The handlers read the exit record alone (issue 13): a sink, which sees each event before any
 * handler, overwrites the CPU's stop fields with junk as soon as an exit is published. A handler
 * that still read them (the register an `in` loads, an exception's return address) would load
 * the wrong register or return to the wrong place, and the log would differ.
 */
describe('exit handlers read only the exit record', () => {
  function logOf(run: RandomRun, scramble: boolean): string[] {
    const lines: string[] = [];
    const vcpus = new Map<string, Vcpu>();
    const simulation: Simulation = new Simulation({
      scenario: run.scenario,
      seed: run.seed,
      readProgram: (path) => readFileSync(resolve(EXAMPLES, path), 'utf8'),
      sink: (event) => {
        lines.push(JSON.stringify(event));
        if (!scramble || !event.type.startsWith('exit.')) return;
        if (vcpus.size === 0) for (const vm of simulation.vms) for (const vcpu of vm.vcpus) vcpus.set(vcpu.id, vcpu);
        const cpu = vcpus.get(event.src)?.cpu;
        if (cpu === undefined) return;
        cpu.stopA = 0x5a5a5a5;
        cpu.stopB = 0x3c3c3c3;
        cpu.stopC = 0x7777777;
      },
    });
    simulation.run();
    return lines;
  }

  it('the bundled examples write the same log with the stop fields scrambled at each exit', () => {
    for (const name of ['demo', 'misbehaving', 'io', 'memory', 'smp']) {
      const run = { scenario: example(name), seed: example(name).seed ?? 1 };
      const plain = logOf(run, false);
      expect(plain.some((line) => line.includes('"exit.exception"')) || name !== 'demo').toBe(true);
      expect(logOf(run, true), name).toEqual(plain);
    }
  });

  it('so do random scenarios (every technique, device mode and host type)', () => {
    fc.assert(
      fc.property(scenarioArbitrary(), (run) => {
        expect(logOf(run, true)).toEqual(logOf(run, false));
      }),
      { numRuns: 40, seed: 1313 },
    );
  });
});
