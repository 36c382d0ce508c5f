/**
 * The isolation properties, each a checker that watches a run from outside the monitor (as
 * TigerBeetle's state checkers do): it builds runs from a generated case, looks at host memory,
 * the event stream, the counters and a reference execution, and throws a PropertyViolation that
 * says what broke. Every property can run against a mutant (`mutation`), which is how the suite
 * proves it catches real bugs (test/testing/mutants.test.ts, docs/testing.md).
 */
import { BARE_MACHINE_COSTS } from '../actors/technique.js';
import fc from 'fast-check';
import { partsOf, type Mutation } from './mutants/index.js';
import { hashWords } from '../core/hash.js';
import { Vector } from '../core/isa/opcodes.js';
import { PAGE_BYTES, PAGE_WORDS } from '../core/platform.js';
import type { SimEvent } from '../core/events.js';
import type { InputSpec } from '../core/scenario/inputs.js';
import type { Scenario, VirtTechnique } from '../core/scenario/schema.js';
import { Simulation } from '../actors/simulation.js';
import { LogFile } from '../replay/logFile.js';
import { replay } from '../replay/replay.js';
import { memorySource } from '../replay/source.js';
import { inputSchedule, scenarioArbitrary, type RandomRun } from './arbitraries.js';
import { adversarialGuest, blockProber, GUEST_WORDS, hammerGuest, memoryProber, quietGuest, trapGuest, victimGuest } from './guests.js';
import { referenceRun } from './reference.js';
import { guestVm, runChecked, testScenario, type CheckedRun } from './scenario.js';
import { capWindow } from './capWindow.js';
import { confidentiality } from './confidentiality.js';
import { PropertyViolation, type AnyIsolationProperty, type IsolationProperty } from './property.js';

export { PropertyViolation, type AnyIsolationProperty, type IsolationProperty } from './property.js';

/** A fast-check property (for fc.assert / fc.check) from an isolation property. */
export function toFastCheck<Case>(property: IsolationProperty<Case>, mutation?: Mutation): fc.IPropertyWithHooks<[Case]> {
  return fc.property(property.arbitrary, (value) => property.check(value, mutation));
}

function violation(property: string, condition: boolean, message: () => string): void {
  if (!condition) throw new PropertyViolation(property, message());
}

// ------------------------------------------------------------------------------ memory isolation

export interface MemoryCase {
  readonly adversary: string;
  /** Where the adversary sits among the VMs (its neighbours are the bystanders). */
  readonly position: number;
  /** The other VMs: never started, or running a guest that stores nothing. */
  readonly bystanders: readonly ('defined' | 'quiet')[];
  readonly pcpus: number;
  /** How the adversary's block device is attached: emulated (the monitor's model checks its DMA) or passthrough (the IOMMU does). */
  readonly block?: 'emulated' | 'passthrough';
  /**
   * Page sharing on the host: identical pages of every VM (the zero pages first) are merged
   * before the adversary starts, so its stores to its own memory meet shared frames, which copy
   * on write must give it its own copy of.
   */
  readonly sharing?: boolean;
  readonly seed: number;
}

/** When the adversary starts under page sharing: after a few scans have merged the VMs' pages. */
const SHARED_START_NS = 300_000;

function memoryScenario(value: MemoryCase): Scenario {
  const vms = value.bystanders.map((kind, index) => guestVm(`b${index}`, quietGuest, { autostart: kind === 'quiet' }));
  vms.splice(Math.min(value.position, vms.length), 0, guestVm('adversary', value.adversary, { devices: { block: value.block ?? 'emulated', nic: 'emulated' }, ...(value.sharing === true ? { startNs: SHARED_START_NS } : {}) }));
  return testScenario(vms, {
    host: { pcpus: value.pcpus, memoryBytes: 2 * 1024 * 1024, ...(value.sharing === true ? { pageSharing: { intervalNs: 50_000, pagesPerScan: 64 } } : {}) },
    scheduler: { policy: 'round-robin', quantumNs: 50_000 },
    run: { timeNs: 1_000_000, instructions: undefined, checkpointEvery: 10_000 },
  });
}

/**
 * Memory isolation: no write by the adversary ever changes a word of a host frame it does not
 * own: its neighbours' memory, and the frames no VM owns (the monitor keeps no data in guest
 * frames; free frames must stay zero). The bystanders store nothing, so every frame but the
 * adversary's must end exactly as it began.
 */
export const memoryIsolation: IsolationProperty<MemoryCase> = {
  name: 'memory-isolation',
  description: "no write by one VM (stores, stack, DMA) changes a word of a frame it does not own",
  arbitrary: fc.record({
    adversary: fc.oneof(adversarialGuest(), { weight: 3, arbitrary: memoryProber() }, { weight: 2, arbitrary: blockProber() }),
    position: fc.integer({ min: 0, max: 2 }),
    bystanders: fc.array(fc.constantFrom('defined' as const, 'quiet' as const), { minLength: 1, maxLength: 2 }),
    pcpus: fc.integer({ min: 1, max: 2 }),
    block: fc.constantFrom('emulated' as const, 'passthrough' as const),
    sharing: fc.constantFrom(false, false, true),
    seed: fc.nat(),
  }),
  numRuns: 100,
  check(value, mutation) {
    const simulation = new Simulation({ scenario: memoryScenario(value), seed: value.seed, parts: partsOf(mutation) });
    if (value.sharing === true) {
      // Merging moves pages between frames and scrubs the frames it frees, so what must not
      // change is what every other VM sees: its guest-physical memory, word for word.
      const others = simulation.vms.filter((vm) => vm.name !== 'adversary');
      const before = others.map((vm) => vm.memory.snapshotWords());
      try {
        simulation.run();
      } catch (error) {
        // The host's frame accounting (who maps which frame) is checked as pages are merged and
        // copied: a map that reaches frames it does not own breaks it, which is this property's
        // failure too (the standard monitor never throws here).
        if (error instanceof PropertyViolation) throw error;
        violation(this.name, false, () => `the host's frame accounting broke (page sharing on): ${error instanceof Error ? error.message : String(error)}`);
      }
      others.forEach((vm, index) => {
        const now = vm.memory.snapshotWords();
        for (let word = 0; word < now.length; word++) {
          violation(this.name, now[word] === before[index][word], () => `${vm.name}'s guest-physical word ${word} changed from ${before[index][word]} to ${now[word]} (page sharing on)`);
        }
      });
      return;
    }
    const host = simulation.host.memory;
    const before = Int32Array.from(host.words);
    simulation.run();
    for (let frame = 0; frame < host.frameCount; frame++) {
      const owner = host.ownerOf(frame);
      if (owner === 'vm/adversary') continue;
      const start = frame * PAGE_WORDS;
      for (let offset = 0; offset < PAGE_WORDS; offset++) {
        const was = before[start + offset];
        const now = host.words[start + offset];
        violation(this.name, was === now, () => `host frame ${frame} (${owner === '' ? 'free' : owner}) word ${offset} changed from ${was} to ${now}`);
      }
    }
  },
  reproduce: (value) => ({ scenario: memoryScenario(value), seed: value.seed }),
};

// ------------------------------------------------------------------------------ non-interference

export interface InterferenceCase {
  readonly victim: string;
  readonly adversary: string;
  readonly victimFirst: boolean;
  readonly policy: 'round-robin' | 'credit';
  readonly quantumNs: number;
  /** Faults on the neighbour's devices, stalls of either VM (timing only). */
  readonly inputs: readonly InputSpec[];
  readonly seed: number;
}

function interferenceScenario(value: InterferenceCase, neighbour: string): Scenario {
  const victim = guestVm('victim', value.victim);
  const other = guestVm('neighbour', neighbour);
  return testScenario(value.victimFirst ? [victim, other] : [other, victim], {
    scheduler: { policy: value.policy, quantumNs: value.quantumNs, ...(value.policy === 'credit' ? { timesliceNs: value.quantumNs, tickNs: 1_000_000 } : {}) },
    run: { timeNs: 6_000_000, instructions: undefined, checkpointEvery: 10_000 },
    inputs: value.inputs,
  });
}

/** What another party can see of the victim: its end, console, memory, the I/O it issued and the state of its devices. */
function observe(run: CheckedRun): Record<string, unknown> {
  const vm = run.simulation.vms.find((candidate) => candidate.name === 'victim');
  if (vm === undefined) throw new Error('no victim VM');
  const io = run.events
    .filter((event) => event.type === 'exit.io' && event.src.startsWith('vm/victim/'))
    .map((event) => (event.type === 'exit.io' ? `${event.data.dir} ${event.data.port} ${String(event.data.value)}` : ''));
  // Integrity of its device state too: disk, NIC queues, interrupt controller, timer, console...
  const devices = vm.io.devices.map((device) => `${device.id} ${JSON.stringify(device.snapshot())}`).join('; ');
  return { state: vm.state, reason: vm.endReason, console: vm.console.transcript, memory: vm.memoryDigest(), io: io.join(', '), devices };
}

/**
 * Non-interference: a victim's observable behaviour (how it ends, its console, its memory at the
 * end, the I/O it issued) is the same beside a quiet guest and beside any adversary, whatever
 * faults hit the neighbour; only timing may differ.
 */
export const nonInterference: IsolationProperty<InterferenceCase> = {
  name: 'non-interference',
  description: "a victim's console, memory and I/O are the same beside a quiet guest and beside any adversary",
  arbitrary: fc.record({
    victim: victimGuest,
    adversary: adversarialGuest(),
    victimFirst: fc.boolean(),
    policy: fc.constantFrom('round-robin' as const, 'credit' as const),
    quantumNs: fc.constantFrom(10_000, 30_000),
    inputs: fc.oneof(
      inputSchedule({ vms: ['neighbour'], untilNs: 400_000, kinds: ['device-error', 'device-reset'], maxInputs: 3 }),
      inputSchedule({ vms: ['victim', 'neighbour'], untilNs: 1_000_000, kinds: ['vcpu-stall'], maxInputs: 2 }),
    ),
    seed: fc.nat(),
  }),
  numRuns: 60,
  check(value, mutation) {
    // Once the victim has ended there is nothing more to see of it.
    const stopWhen = (event: SimEvent) => (event.type === 'vm.stopped' || event.type === 'vm.crashed') && event.src === 'vm/victim';
    const quiet = observe(runChecked(interferenceScenario(value, quietGuest), { seed: value.seed, mutation, stopWhen }));
    const beside = observe(runChecked(interferenceScenario(value, value.adversary), { seed: value.seed, mutation, stopWhen }));
    for (const key of Object.keys(quiet)) {
      violation(this.name, quiet[key] === beside[key], () => `the victim's ${key} differs: beside a quiet guest ${JSON.stringify(quiet[key])}, beside the adversary ${JSON.stringify(beside[key])}`);
    }
  },
  reproduce: (value) => ({ scenario: interferenceScenario(value, value.adversary), seed: value.seed }),
};

// ------------------------------------------------------------------------------ equivalence


export interface GuestCase {
  readonly guest: string;
  readonly seed: number;
}

function guestScenario(guest: string, virt: VirtTechnique | 'bare'): Scenario {
  return testScenario([guestVm('guest', guest, { virt: virt === 'bare' ? 'hw' : virt })], {
    costs: virt === 'bare' ? BARE_MACHINE_COSTS : {},
    run: { timeNs: 5_000_000, instructions: undefined, checkpointEvery: 10_000 },
  });
}

function outcome(run: CheckedRun): Record<string, unknown> {
  const vm = run.simulation.vms[0];
  return { state: vm.state, console: vm.console.transcript, memory: vm.memoryDigest(), registers: [...vm.bsp.cpu.regs].join(' ') };
}

/**
 * Equivalence (Popek and Goldberg): a guest's result under the monitor (how it ends, its console,
 * memory and registers) equals its result on the simulated bare machine, for every technique.
 */
export const equivalence: IsolationProperty<GuestCase> = {
  name: 'equivalence',
  description: 'a guest ends the same under the monitor, for every technique, as on the bare machine',
  arbitrary: fc.record({ guest: trapGuest, seed: fc.nat() }),
  numRuns: 40,
  check(value, mutation) {
    const bare = outcome(runChecked(guestScenario(value.guest, 'bare'), { seed: value.seed }));
    for (const virt of ['full', 'para', 'hw', 'bt'] as const) {
      const under = outcome(runChecked(guestScenario(value.guest, virt), { seed: value.seed, mutation }));
      for (const key of Object.keys(bare)) {
        violation(this.name, bare[key] === under[key], () => `under ${virt}, the guest's ${key} is ${JSON.stringify(under[key])}; on the bare machine ${JSON.stringify(bare[key])}`);
      }
    }
  },
  reproduce: (value) => ({ scenario: guestScenario(value.guest, 'full'), seed: value.seed }),
};

// ------------------------------------------------------------------------------ trap completeness

export interface TrapCase extends GuestCase {
  readonly virt: 'full' | 'para' | 'bt';
}

/**
 * Trap completeness: every sensitive instruction the guest executes deprivileged (in virtual user
 * mode) reaches the monitor, which reflects it into the guest as #GP; under trap-and-emulate,
 * every one it executes in virtual kernel mode exits. Counted by a reference execution
 * (reference.ts, independent of the monitor) and compared with the exits and injections the run
 * logged; the guest's memory must also end as the reference's.
 */
export const trapCompleteness: IsolationProperty<TrapCase> = {
  name: 'trap-completeness',
  description: 'every sensitive instruction executed deprivileged reaches the monitor and is reflected as #GP',
  arbitrary: fc.record({ guest: trapGuest, virt: fc.constantFrom('full' as const, 'para' as const, 'bt' as const), seed: fc.nat() }),
  numRuns: 60,
  check(value, mutation) {
    const reference = referenceRun(value.guest, GUEST_WORDS);
    const run = runChecked(guestScenario(value.guest, value.virt), { seed: value.seed, mutation });
    let trapped = 0;
    let reflected = 0;
    let kernelPrivileged = 0;
    for (const event of run.events) {
      if (event.type === 'exit.exception' && event.data.vector === Vector.GP && event.data.mode === 'user') trapped++;
      else if (event.type === 'exception.inject' && event.data.vector === Vector.GP) reflected++;
      else if (event.type === 'exit.privileged' && event.data.mode === 'kernel') kernelPrivileged++;
    }
    const expected = reference.userSensitive;
    violation(this.name, trapped === expected, () => `${expected} sensitive instructions ran in user mode, ${trapped} reached the monitor`);
    violation(this.name, reflected === expected, () => `${expected} sensitive instructions ran in user mode, ${reflected} were reflected to the guest as #GP`);
    if (value.virt !== 'bt') {
      const counts = reference.kernelSensitive;
      const emulated = (counts.cli ?? 0) + (counts.sti ?? 0) + (counts.iret ?? 0) + (counts.csrr ?? 0) + (counts.csrw ?? 0);
      violation(this.name, kernelPrivileged === emulated, () => `${emulated} cli/sti/iret/csrr/csrw ran in kernel mode, ${kernelPrivileged} exited`);
    }
    const vm = run.simulation.vms[0];
    violation(this.name, (vm.state === 'shutoff') === (reference.end === 'powered-off'), () => `the guest ended ${vm.state} (${vm.endReason}); the reference ${reference.end} (${reference.reason})`);
    violation(this.name, vm.memoryDigest() === hashWords(reference.memory), () => "the guest's memory differs from the reference execution's");
  },
  reproduce: (value) => ({ scenario: guestScenario(value.guest, value.virt), seed: value.seed }),
};

// ------------------------------------------------------------------------------ resource control

export interface ResourceCase {
  readonly vms: readonly { readonly guest: string; readonly cap: number }[];
  readonly pcpus: number;
  readonly inputs: readonly InputSpec[];
  readonly seed: number;
}

const RESOURCE_TIME_NS = 8_000_000;
const CREDIT_TICK_NS = 1_000_000;
/** credit's accounting period: three ticks (src/actors/scheduler/credit.ts). */
const CREDIT_PERIOD_NS = 3 * CREDIT_TICK_NS;

function resourceScenario(value: ResourceCase): Scenario {
  return testScenario(
    value.vms.map((vm, index) => guestVm(`g${index}`, vm.guest, { sched: { weight: 256, cap: vm.cap } })),
    {
      host: { pcpus: value.pcpus, memoryBytes: 4 * 1024 * 1024 },
      scheduler: { policy: 'credit', quantumNs: 1_000_000, timesliceNs: 1_000_000, tickNs: CREDIT_TICK_NS },
      run: { timeNs: RESOURCE_TIME_NS, instructions: undefined, checkpointEvery: 10_000 },
      inputs: value.inputs,
    },
  );
}

/** Device events that only a guest's own access to the device can cause. */
const DEVICE_EFFECTS: ReadonlySet<string> = new Set(['timer.armed', 'dma.done', 'dma.blocked', 'irq.eoi']);

/**
 * Resource control: no VM exceeds its cap (its CPU time, from the counters, stays within cap%
 * of the run plus one accounting period), its memory (every guest page it can reach is a frame
 * it owns, no more than it was given) or its devices (a device of one VM is only ever programmed
 * by that VM's own exits, as the event stream shows).
 */
export const resourceControl: IsolationProperty<ResourceCase> = {
  name: 'resource-control',
  description: 'no VM exceeds its CPU cap, its memory or its devices',
  arbitrary: fc
    .array(
      fc.record({
        guest: fc.oneof(adversarialGuest({ maxStatements: 8 }), { weight: 2, arbitrary: hammerGuest }, fc.constant('spin:\n  work 1000000\n  jmp spin\n')),
        cap: fc.constantFrom(0, 10, 25, 50),
      }),
      { minLength: 1, maxLength: 3 },
    )
    .chain((vms) =>
      fc.record({
        vms: fc.constant(vms),
        pcpus: fc.integer({ min: 1, max: 2 }),
        inputs: inputSchedule({ vms: vms.map((_, index) => `g${index}`), untilNs: 3_000_000, kinds: ['device-error'], devices: ['timer', 'timer', 'console'], maxInputs: 3 }),
        seed: fc.nat(),
      }),
    ),
  numRuns: 60,
  check(value, mutation) {
    const run = runChecked(resourceScenario(value), { seed: value.seed, mutation });
    const end = run.simulation.kernel.now;
    run.simulation.vms.forEach((vm, index) => {
      const cap = value.vms[index].cap;
      if (cap > 0) {
        const used = vm.vcpus.reduce((sum, vcpu) => sum + vcpu.counters.cpuNs, 0);
        const allowed = Math.ceil((cap / 100) * (end + CREDIT_PERIOD_NS));
        violation(this.name, used <= allowed, () => `${vm.name} (cap ${cap}%) ran ${used} ns in ${end} ns: more than ${allowed} ns`);
      }
      const host = vm.memory.host;
      const declaredPages = run.simulation.scenario.vms[index].memoryBytes / PAGE_BYTES;
      let mapped = 0;
      vm.memory.pageBase.forEach((base, page) => {
        if (base < 0) return;
        mapped++;
        // A frame shared by page sharing has several readers; the VM must be one of them.
        const readers = host.readersOf(base / PAGE_WORDS);
        violation(this.name, readers.includes(vm.id), () => `${vm.name}'s guest page ${page} maps host frame ${base / PAGE_WORDS}, readable by ${readers.length === 0 ? 'nobody' : readers.join(', ')}`);
        violation(this.name, host.isShared(base / PAGE_WORDS) || vm.memory.writeBase[page] === base, () => `${vm.name}'s guest page ${page} is read-only on a frame that is not shared`);
        violation(this.name, !host.isShared(base / PAGE_WORDS) || vm.memory.writeBase[page] < 0, () => `${vm.name}'s guest page ${page} may write host frame ${base / PAGE_WORDS}, which it shares`);
      });
      violation(this.name, mapped <= declaredPages, () => `${vm.name} can reach ${mapped} pages; it was given ${declaredPages}`);
    });
    let previous: (typeof run.events)[number] | undefined;
    for (const event of run.events) {
      if (DEVICE_EFFECTS.has(event.type) && previous !== undefined && previous.type.startsWith('exit.') && previous.src.startsWith('vm/')) {
        const owner = event.src.split('/').slice(0, 2).join('/');
        const actor = previous.src.split('/').slice(0, 2).join('/');
        violation(this.name, owner === actor, () => `${event.src} (${event.type}, seq ${event.seq}) was programmed by ${previous?.src} (${previous?.type}, seq ${previous?.seq})`);
      }
      previous = event;
    }
  },
  reproduce: (value) => ({ scenario: resourceScenario(value), seed: value.seed }),
};

// ------------------------------------------------------------------------------ determinism

/** Determinism: any run, whatever its scenario, guests, inputs and seed, replays identically from its log. */
export const determinism: IsolationProperty<RandomRun> = {
  name: 'determinism',
  description: 'any run replays identically from its log',
  arbitrary: scenarioArbitrary(),
  numRuns: 60,
  check(value, mutation) {
    const run = runChecked(value.scenario, { seed: value.seed, mutation, log: true });
    const result = replay(new LogFile(memorySource(run.log)));
    violation(
      this.name,
      result.identical,
      () => `the replay differs at seq ${result.divergence?.seq}: logged ${result.divergence?.expected ?? '(end)'}, replayed ${result.divergence?.actual ?? '(end)'}`,
    );
  },
  reproduce: (value) => ({ scenario: value.scenario, seed: value.seed }),
};

/** Every ready-made property, in the order the fuzzer runs them. */
export const PROPERTIES: readonly AnyIsolationProperty[] = [memoryIsolation, confidentiality, nonInterference, equivalence, trapCompleteness, resourceControl, capWindow, determinism];

export function propertyNamed(name: string): AnyIsolationProperty | undefined {
  return PROPERTIES.find((property) => property.name === name);
}
