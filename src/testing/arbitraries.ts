/**
 * fast-check arbitraries for whole runs: schedules of injected faults and inputs (the scenario
 * `inputs:` format, src/core/scenario/inputs.ts) and scenarios (host, VMs, scheduling policy,
 * cost model, virtualization techniques), built from the guest arbitraries in guests.ts.
 */
import fc from 'fast-check';
import type { CostName } from '../core/costs.js';
import type { FaultDevice, InputSpec } from '../core/scenario/inputs.js';
import { VIRT_TECHNIQUES, type PolicyName, type Scenario, type VmSpec } from '../core/scenario/schema.js';
import { adversarialGuest, quietGuest, trapGuest, victimGuest } from './guests.js';
import { guestVm, testScenario } from './scenario.js';

export interface ScheduleOptions {
  /** The VMs inputs may target (by name). */
  readonly vms: readonly string[];
  /** Inputs happen in [0, untilNs). */
  readonly untilNs: number;
  readonly maxInputs?: number;
  /** Which kinds to draw (all by default). */
  readonly kinds?: readonly InputSpec['kind'][];
  /** The devices faults hit (both by default; repeat one to make it likelier). */
  readonly devices?: readonly FaultDevice[];
}

/** A schedule of inputs from outside: console text, device errors and resets, vCPU stalls. Sorted by time. */
export function inputSchedule(options: ScheduleOptions): fc.Arbitrary<InputSpec[]> {
  const at = fc.integer({ min: 0, max: Math.max(0, options.untilNs - 1) });
  const vm = fc.constantFrom(...options.vms);
  const device = fc.constantFrom<FaultDevice>(...(options.devices ?? ['console', 'timer']));
  const kinds = new Set(options.kinds ?? ['console', 'device-error', 'device-reset', 'vcpu-stall']);
  const choices: fc.Arbitrary<InputSpec>[] = [];
  if (kinds.has('console')) {
    choices.push(fc.tuple(at, vm, fc.constantFrom('hi\n', 'off\n', 'x')).map(([atNs, name, text]): InputSpec => ({ kind: 'console', atNs, vm: name, text })));
  }
  for (const kind of ['device-error', 'device-reset'] as const) {
    if (kinds.has(kind)) choices.push(fc.tuple(at, vm, device).map(([atNs, name, target]): InputSpec => ({ kind, atNs, vm: name, device: target })));
  }
  if (kinds.has('vcpu-stall')) {
    choices.push(
      fc.tuple(at, vm, fc.integer({ min: 1_000, max: 300_000 })).map(([atNs, name, durationNs]): InputSpec => ({ kind: 'vcpu-stall', atNs, vm: name, vcpu: 0, durationNs })),
    );
  }
  return fc.array(fc.oneof(...choices), { maxLength: options.maxInputs ?? 4 }).map((inputs) => [...inputs].sort((a, b) => a.atNs - b.atNs));
}

/** Cost model overrides: a few mechanisms made cheaper or dearer. */
export const costOverrides: fc.Arbitrary<Partial<Record<CostName, number>>> = fc
  .array(
    fc.tuple(
      fc.constantFrom<CostName>('exitNs', 'entryNs', 'privilegedEmulateNs', 'ioEmulateNs', 'hypercallNs', 'exceptionReflectNs', 'contextSwitchNs', 'timerJitterNs', 'startJitterNs'),
      fc.integer({ min: 0, max: 20_000 }),
    ),
    { maxLength: 3 },
  )
  .map((pairs) => Object.fromEntries(pairs) as Partial<Record<CostName, number>>);

/** The policies a random scenario draws from (those that need no per-VM parameters). */
export const SCENARIO_POLICIES: readonly PolicyName[] = ['round-robin', 'credit', 'credit2', 'cfs'];

const BUNDLED = ['kernel', 'ticker', 'echo', 'hello-pv', 'io-bound', 'cpu-bound', 'rogue-cli'] as const;

/** Any guest: adversarial, well-behaved, quiet, a kernel with user code, or a bundled one. */
const anyGuest: fc.Arbitrary<{ guest: VmSpec['guest']; vcpus: number }> = fc.oneof(
  adversarialGuest({ maxStatements: 8 }).map((source) => ({ guest: { kind: 'inline' as const, source, line: 1 }, vcpus: 1 })),
  victimGuest.map((source) => ({ guest: { kind: 'inline' as const, source, line: 1 }, vcpus: 1 })),
  trapGuest.map((source) => ({ guest: { kind: 'inline' as const, source, line: 1 }, vcpus: 1 })),
  fc.constant({ guest: { kind: 'inline' as const, source: quietGuest, line: 1 }, vcpus: 1 }),
  fc.tuple(fc.constantFrom(...BUNDLED), fc.integer({ min: 1, max: 2 })).map(([name, vcpus]) => ({ guest: { kind: 'bundled' as const, name }, vcpus })),
);

export interface RandomRun {
  readonly scenario: Scenario;
  readonly seed: number;
}

export interface ScenarioOptions {
  readonly maxVms?: number;
  readonly timeNs?: number;
}

/**
 * A whole random run, swarm-testing style: every parameter drawn (host type and load, the host's
 * memory (plain, page sharing, overcommit, ballooning), physical CPUs, policy and quantum, cost
 * overrides, each VM's guest, vCPUs, technique, posted interrupts, tagged TLB, device attach
 * modes, weight and cap, start time, a schedule of inputs) and a seed.
 */
export function scenarioArbitrary(options: ScenarioOptions = {}): fc.Arbitrary<RandomRun> {
  const timeNs = options.timeNs ?? 2_000_000;
  return fc
    .array(
      fc.record({
        guest: anyGuest,
        virt: fc.constantFrom(...VIRT_TECHNIQUES),
        posted: fc.boolean(),
        tlbTagged: fc.boolean(),
        block: fc.constantFrom('emulated' as const, 'paravirtual' as const, 'passthrough' as const),
        nic: fc.constantFrom('emulated' as const, 'paravirtual' as const, 'passthrough' as const),
        weight: fc.constantFrom(128, 256, 512),
        cap: fc.constantFrom(0, 0, 30, 70),
        startNs: fc.constantFrom(0, 0, 200_000),
      }),
      { minLength: 1, maxLength: options.maxVms ?? 3 },
    )
    .chain((vms) =>
      fc.record({
        vms: fc.constant(vms),
        pcpus: fc.integer({ min: 1, max: 3 }),
        type: fc.constantFrom('type1' as const, 'type2' as const),
        load: fc.constantFrom(0, 0.2),
        // The host's memory: plenty, shared pages, or overcommitted (with or without ballooning).
        memory: fc.constantFrom('plain' as const, 'plain' as const, 'sharing' as const, 'overcommit' as const, 'ballooning' as const),
        policy: fc.constantFrom(...SCENARIO_POLICIES),
        quantumNs: fc.constantFrom(50_000, 200_000, 1_000_000),
        costs: costOverrides,
        inputs: inputSchedule({ vms: vms.map((_, index) => `g${index}`), untilNs: timeNs }),
        seed: fc.nat(),
      }),
    )
    .map(({ vms, pcpus, type, load, memory, policy, quantumNs, costs, inputs, seed }) => ({
      seed,
      scenario: testScenario(
        vms.map((vm, index) =>
          guestVm(`g${index}`, '', {
            guest: vm.guest.guest,
            vcpus: vm.guest.vcpus,
            virt: vm.virt,
            postedInterrupts: vm.virt === 'hw' && vm.posted,
            tlbTagged: vm.tlbTagged,
            devices: { block: vm.block, nic: vm.nic },
            // Overcommitted: 512 KiB VMs (up to three) on a 1 MiB host.
            ...(memory === 'overcommit' || memory === 'ballooning' ? { memoryBytes: 512 * 1024 } : {}),
            startNs: vm.startNs,
            sched: { weight: vm.weight, cap: vm.cap },
          }),
        ),
        {
          host: {
            pcpus,
            memoryBytes: memory === 'overcommit' || memory === 'ballooning' ? 1024 * 1024 : 4 * 1024 * 1024,
            type,
            load: type === 'type2' ? load : 0,
            ...(memory === 'sharing' || memory === 'ballooning' ? { pageSharing: { intervalNs: 100_000, pagesPerScan: 16 } } : {}),
            ...(memory === 'overcommit' || memory === 'ballooning' ? { overcommit: true } : {}),
            ...(memory === 'ballooning' ? { ballooning: { belowFraction: 0.2, stepPages: 4, intervalNs: 200_000 } } : {}),
          },
          scheduler: { policy, quantumNs },
          run: { timeNs, instructions: undefined, checkpointEvery: 500 },
          costs,
          inputs,
        },
      ),
    }));
}
