/**
 * The world switch (issue 11): what a pCPU saves and restores when it switches vCPUs, and what the
 * switch costs.
 *
 * - A vCPU's architectural state lives in its own CpuState; what the monitor must get exactly right
 *   is taking a batch back (rollback to the checkpoint made at the batch's start, used when
 *   something must happen earlier than the batch's end). The reference is a deep copy taken at the
 *   checkpoint: after any registers, CSRs, pc, mode, interrupt flag, counters and stores, rollback
 *   gives that copy back, memory included (undo newest first, so a word stored twice gets its
 *   first value back).
 * - The switch costs `contextSwitchNs` when a pCPU switches to another vCPU than the one it last
 *   ran (the first dispatch too), and `entryNs` at every dispatch; the slice starts after them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpuState } from '../../src/actors/vcpu/cpuState.js';
import { Simulation } from '../../src/actors/simulation.js';
import { CSR_COUNT, Mode, REGISTER_COUNT } from '../../src/core/isa/opcodes.js';
import type { SimEvent } from '../../src/core/events.js';
import type { PolicyFactory, PolicyHost, SchedEntity } from '../../src/actors/scheduler/policy.js';
import { inline, runScenario, scenario, vmSpec } from '../helpers.js';

interface Architectural {
  regs: number[];
  csr: number[];
  pc: number;
  mode: number;
  ie: number;
  workLeftNs: number;
  retired: number;
  workNs: number;
}

const view = (cpu: CpuState): Architectural => ({
  regs: [...cpu.regs],
  csr: [...cpu.csr],
  pc: cpu.pc,
  mode: cpu.mode,
  ie: cpu.ie,
  workLeftNs: cpu.workLeftNs,
  retired: cpu.retired,
  workNs: cpu.workNs,
});

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const stateArbitrary = fc.record({
  regs: fc.array(int32, { minLength: REGISTER_COUNT, maxLength: REGISTER_COUNT }),
  csr: fc.array(int32, { minLength: CSR_COUNT, maxLength: CSR_COUNT }),
  pc: fc.integer({ min: 0, max: 1 << 20 }),
  mode: fc.constantFrom(Mode.KERNEL, Mode.USER),
  ie: fc.constantFrom(0, 1),
  workLeftNs: fc.nat(),
  retired: fc.nat(),
  workNs: fc.nat(),
});

function load(cpu: CpuState, state: Architectural): void {
  state.regs.forEach((value, index) => (cpu.regs[index] = value));
  state.csr.forEach((value, index) => (cpu.csr[index] = value));
  cpu.pc = state.pc;
  cpu.mode = state.mode;
  cpu.ie = state.ie;
  cpu.workLeftNs = state.workLeftNs;
  cpu.retired = state.retired;
  cpu.workNs = state.workNs;
}

describe('CpuState: a batch taken back', () => {
  it('rollback restores every register, CSR, pc, mode, flag and counter, and every word stored (property)', () => {
    fc.assert(
      fc.property(
        stateArbitrary,
        stateArbitrary,
        fc.array(fc.record({ index: fc.integer({ min: 0, max: 63 }), value: int32 }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 4 }),
        (before, after, stores, pages) => {
          const cpu = new CpuState();
          const memory = Int32Array.from({ length: 64 }, (_, index) => index * 7 - 100);
          const translated = new Uint8Array(16);
          translated[15] = 1; // translated before the batch: stays
          load(cpu, before);
          const expected = view(cpu);
          const memoryBefore = [...memory];
          cpu.checkpoint();
          // The batch: the interpreter logs (index, old value) before each store.
          for (const store of stores) {
            cpu.undo[cpu.undoLength++] = store.index;
            cpu.undo[cpu.undoLength++] = memory[store.index];
            memory[store.index] = store.value;
          }
          for (const page of pages) {
            translated[page] = 1;
            cpu.translatedInBatch.push(page);
          }
          load(cpu, after);
          cpu.rollback(memory, translated);
          expect(view(cpu)).toEqual(expected);
          expect([...memory]).toEqual(memoryBefore);
          expect(cpu.undoLength).toBe(0);
          expect(cpu.translatedInBatch).toEqual([]);
          expect([...translated]).toEqual(Array.from({ length: 16 }, (_, page) => (page === 15 && !pages.includes(15) ? 1 : 0)));
        },
      ),
      { numRuns: 300, seed: 11_310 },
    );
  });

  it('a second checkpoint forgets the first batch: its undo log is empty and rollback returns to the new state', () => {
    const cpu = new CpuState();
    const memory = new Int32Array(8);
    cpu.regs[3] = 1;
    cpu.checkpoint();
    cpu.undo[cpu.undoLength++] = 2;
    cpu.undo[cpu.undoLength++] = memory[2];
    memory[2] = 9;
    cpu.translatedInBatch.push(4);
    cpu.regs[3] = 2;
    cpu.pc = 40;
    cpu.checkpoint();
    expect(cpu.undoLength).toBe(0);
    expect(cpu.translatedInBatch).toEqual([]);
    cpu.regs[3] = 3;
    cpu.pc = 80;
    cpu.rollback(memory);
    expect(cpu.regs[3]).toBe(2);
    expect(cpu.pc).toBe(40);
    expect(memory[2]).toBe(9);
  });
});

const MS = 1_000_000;
const COSTS = { contextSwitchNs: 7_000, entryNs: 300, scheduleNs: 0, exitNs: 0, timerJitterNs: 0, startJitterNs: 0, interruptInjectNs: 0, ioEmulateNs: 0 };
const spin = inline('loop:\n    work 1000\n    jmp loop\n');

/** For each dispatch: the vCPU, its pCPU, when, and whether the pCPU last ran another vCPU (or none). */
function dispatches(events: readonly SimEvent[]) {
  const last = new Map<number, string>();
  const out: { src: string; pcpu: number; t: number; switched: boolean }[] = [];
  for (const event of events) {
    if (event.type !== 'vcpu.running') continue;
    const pcpu = (event.data as { pcpu: number }).pcpu;
    out.push({ src: event.src, pcpu, t: event.t, switched: last.get(pcpu) !== event.src });
    last.set(pcpu, event.src);
  }
  return out;
}

describe('the world switch: its cost and the slice after it', () => {
  it('two CPU-bound VMs on one pCPU: every dispatch is a switch (contextSwitchNs + entryNs), and the slice is whole after it', () => {
    const quantumNs = 200_000;
    const run = runScenario(
      scenario([vmSpec('a', spin), vmSpec('b', spin)], {
        scheduler: { policy: 'round-robin', quantumNs } as never,
        run: { timeNs: 5 * MS, instructions: undefined, checkpointEvery: 1_000_000 },
        costs: COSTS,
      }),
    );
    const all = dispatches(run.events);
    expect(all.length).toBeGreaterThan(10);
    for (const vm of run.simulation.vms) {
      const vcpu = vm.vcpus[0];
      const mine = all.filter((dispatch) => dispatch.src === vcpu.id);
      expect(mine.every((dispatch) => dispatch.switched)).toBe(true);
      expect(vcpu.counters.dispatches).toBe(mine.length);
      expect(vcpu.counters.overheadNs).toBe(mine.length * (COSTS.contextSwitchNs + COSTS.entryNs));
    }
    // Each preemption comes exactly a switch and a quantum after the dispatch.
    for (let index = 0; index + 1 < all.length; index++) {
      const preempted = run.events.find((event) => event.type === 'vcpu.runnable' && event.src === all[index].src && event.t > all[index].t);
      if (preempted === undefined || preempted.t >= 5 * MS) continue;
      expect(preempted.t - all[index].t).toBe(COSTS.contextSwitchNs + COSTS.entryNs + quantumNs);
    }
  });

  it('a vCPU dispatched again on the pCPU it last ran on pays no context switch: alone, only its first dispatch does', () => {
    // The interactive workload sleeps and wakes: the same vCPU is dispatched again and again.
    const overheadWith = (contextSwitchNs: number) => {
      const run = runScenario(
        scenario([vmSpec('s', { kind: 'bundled', name: 'interactive' })], {
          run: { timeNs: 20 * MS, instructions: undefined, checkpointEvery: 1_000_000 },
          costs: { ...COSTS, contextSwitchNs },
        }),
      );
      const vcpu = run.simulation.vms[0].vcpus[0];
      return { overheadNs: vcpu.counters.overheadNs, dispatches: dispatches(run.events) };
    };
    const free = overheadWith(0);
    const paid = overheadWith(COSTS.contextSwitchNs);
    expect(paid.dispatches.length).toBeGreaterThan(3);
    expect(paid.dispatches.filter((dispatch) => dispatch.switched)).toHaveLength(1);
    expect(paid.dispatches.length).toBe(free.dispatches.length);
    expect(paid.overheadNs - free.overheadNs).toBe(COSTS.contextSwitchNs);
  });

  it('a pCPU that ran a vCPU and has nothing left says so again each time (pcpu.idle after every dispatch that ends in an idle CPU)', () => {
    // One sleeping and waking vCPU on one pCPU: after each block the pCPU finds nothing to run.
    const run = runScenario(
      scenario([vmSpec('s', { kind: 'bundled', name: 'interactive' })], {
        run: { timeNs: 20 * MS, instructions: undefined, checkpointEvery: 1_000_000 },
      }),
    );
    const blocked = run.events.filter((event) => event.type === 'vcpu.blocked').length;
    const idle = run.events.filter((event) => event.type === 'pcpu.idle').length;
    expect(blocked).toBeGreaterThan(3);
    // A pCPU starts idle and says nothing then; it says so after each block.
    expect(idle).toBe(blocked);
  });

  it('parts that leave the world switch out run as the standard ones (every hook of the seam is optional)', () => {
    // A part that changes nothing (the interrupt routing as it is): the run is the standard run.
    const build = () =>
      scenario([vmSpec('s', { kind: 'bundled', name: 'interactive' })], {
        run: { timeNs: 5 * MS, instructions: undefined, checkpointEvery: 1_000_000 },
      });
    const plain = new Simulation({ scenario: build() });
    const plainSummary = plain.run();
    const simulation = new Simulation({ scenario: build(), parts: { name: 'identity-routing', routeInterrupt: (_vms, from) => from } });
    const summary = simulation.run();
    expect(summary.events).toBeGreaterThan(10);
    expect(summary.events).toBe(plainSummary.events);
    expect(simulation.vms[0].vcpus[0].counters.overheadNs).toBe(plain.vms[0].vcpus[0].counters.overheadNs);
  });
});

/**
 * A policy that runs a fixed plan: window k of `windowNs` runs plan[k][p] on pCPU p (undefined:
 * idle), cutting every slice at the window's end. For placing a vCPU on given pCPUs at given times.
 */
function scripted(plan: readonly (readonly (string | undefined)[])[], windowNs: number): PolicyFactory {
  return (options) => {
    const runnable = new Map<string, SchedEntity>();
    let host: PolicyHost | undefined;
    const window = (now: number) => Math.floor(now / windowNs);
    const planned = (pcpu: number, now: number) => plan[window(now)]?.[pcpu];
    const rest = (now: number) => (window(now) + 1) * windowNs - now;
    return {
      name: 'scripted',
      attach(policyHost) {
        host = policyHost;
        host.requestTick(windowNs);
      },
      enqueue(entity, now) {
        runnable.set(entity.id, entity);
        const pcpu = plan[window(now)]?.indexOf(entity.id) ?? -1;
        if (pcpu >= 0) host?.wakeIdle(pcpu);
      },
      remove(entity) {
        runnable.delete(entity.id);
      },
      pick(pcpu, now) {
        const id = planned(pcpu, now);
        const entity = id === undefined ? undefined : runnable.get(id);
        if (entity === undefined) return undefined;
        runnable.delete(entity.id);
        return { entity, sliceNs: rest(now) };
      },
      shouldPreempt: (pcpu, current, now) => planned(pcpu, now) !== current.id,
      extend: (_pcpu, _current, now) => rest(now),
      charge: () => undefined,
      tick(now) {
        for (let pcpu = 0; pcpu < options.pcpus; pcpu++) {
          host?.preempt(pcpu);
          host?.wakeIdle(pcpu);
        }
        if (window(now) < plan.length) host?.requestTick((window(now) + 1) * windowNs);
      },
      get waiting() {
        return runnable.size;
      },
      snapshot: () => null,
    };
  };
}

describe('the world switch: the TLB on a redispatch', () => {
  const WINDOW = 300_000;
  const V = 'vm/v/vcpu/0';
  const W = 'vm/w/vcpu/0';
  /** A paging guest touching 2 data pages forever (its code, stack and data fit any TLB), beside a spinner. */
  const runPlan = (plan: readonly (readonly (string | undefined)[])[], tagged: boolean) => {
    const simulation = new Simulation({
      scenario: scenario(
        [
          vmSpec('v', { kind: 'bundled', name: 'tlb-heavy' }, { memoryBytes: 512 * 1024, virt: 'hw', paging: 'nested', tlbTagged: tagged, tlbEntries: 16, params: { PAGES: 2 } }),
          vmSpec('w', spin),
        ],
        {
          host: { pcpus: 2, memoryBytes: 64 << 20 },
          run: { timeNs: plan.length * WINDOW, instructions: undefined, checkpointEvery: 1_000_000 },
          costs: COSTS,
        },
      ),
      policy: scripted(plan, WINDOW),
    });
    const events: SimEvent[] = [];
    simulation.bus.events$.subscribe((event) => events.push(event));
    simulation.run();
    const vcpu = simulation.vms[0].vcpus[0];
    const placed = dispatches(events)
      .filter((dispatch) => dispatch.src === V)
      .map((dispatch) => [Math.floor(dispatch.t / WINDOW), dispatch.pcpu]);
    return { mmu: vcpu.mmu, placed };
  };

  it('untagged: a vCPU dispatched again on the pCPU it last ran on, nothing run there between, keeps its entries', () => {
    const { mmu, placed } = runPlan([[V, W], [undefined, W], [V, W], [undefined, W], [V, W]], false);
    expect(placed).toEqual([[0, 0], [2, 0], [4, 0]]);
    // Filled once (code, stack, two data pages and the table's walk) and never flushed: no miss after the first window.
    expect(mmu?.kernel.flushes).toBe(0);
    const missesOnce = mmu?.misses;
    const { mmu: longer } = runPlan([[V, W], [undefined, W], [V, W], [undefined, W], [V, W], [undefined, W], [V, W]], false);
    expect(longer?.misses).toBe(missesOnce);
  });

  it('untagged: a vCPU dispatched after another vCPU ran on that pCPU starts with an empty TLB', () => {
    const { mmu, placed } = runPlan([[V, W], [W, undefined], [V, W]], false);
    expect(placed).toEqual([[0, 0], [2, 0]]);
    expect(mmu?.kernel.flushes).toBe(1);
  });

  it('tagged: a vCPU that comes back to a pCPU it still owns, then moves on, starts cold on the pCPU it moves to', () => {
    // v runs on pCPU 0, moves to 1 (cold: flush), comes back to 0 (which ran nothing since: its
    // entries are there), moves to 1 again where w ran in between (cold again: flush).
    const { mmu, placed } = runPlan([[V, W], [undefined, V], [V, W], [undefined, V]], true);
    expect(placed).toEqual([[0, 0], [1, 1], [2, 0], [3, 1]]);
    expect(mmu?.pcpu).toBe(1);
    expect(mmu?.kernel.flushes).toBe(2);
  });
});
