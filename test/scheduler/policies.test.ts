/**
 * Each policy against its documented behaviour, measured in the simulation (docs/scheduling.md).
 * Workloads are the bundled guest programs; measurements come from the metrics collector and the
 * event stream, never from the policies themselves.
 */
import { describe, expect, it } from 'vitest';
import { MetricsCollector, runWithMetrics } from '../../src/actors/metrics/index.js';
import { Simulation } from '../../src/actors/simulation.js';
import { Arinc653Policy } from '../../src/actors/scheduler/arinc653.js';
import { CreditPolicy } from '../../src/actors/scheduler/credit.js';
import type { PolicyFactory } from '../../src/actors/scheduler/policy.js';
import type { SimEvent } from '../../src/core/events.js';
import type { Scenario, SchedulerSpec, VmSchedSpec, VmSpec } from '../../src/core/scenario/schema.js';
import { runScenario, scenario, vmSpec } from '../helpers.js';

const MS = 1_000_000;

function vm(name: string, guest: string, sched: Partial<VmSchedSpec> = {}, overrides: Partial<VmSpec> = {}): VmSpec {
  return vmSpec(name, { kind: 'bundled', name: guest }, { sched: { weight: 256, cap: 0, ...sched }, ...overrides });
}

function host(scheduler: SchedulerSpec, timeNs: number, pcpus = 1): Partial<Omit<Scenario, 'vms'>> {
  return { host: { pcpus, memoryBytes: 64 << 20 }, scheduler, run: { timeNs, instructions: undefined, checkpointEvery: 10_000 } };
}

function eventsOf(s: Scenario) {
  return runWithMetrics(s);
}

function collect(s: Scenario, tuning?: ConstructorParameters<typeof CreditPolicy>[1]) {
  return { run: runWithMetrics(s, tuning === undefined ? {} : { policy: (options) => new CreditPolicy(options, tuning) }) };
}

describe('credit (Xen)', () => {
  it('splits one physical CPU 1:2 between CPU-bound VMs of weight 256 and 512 (within 2%)', () => {
    const s = scenario([vm('light', 'cpu-bound', { weight: 256 }), vm('heavy', 'cpu-bound', { weight: 512 })], host({ policy: 'credit', quantumNs: MS }, 6_000 * MS));
    const { metrics } = eventsOf(s);
    const [light, heavy] = metrics.vms;
    expect(light.share / (light.share + heavy.share)).toBeCloseTo(1 / 3, 1);
    expect(Math.abs(heavy.share / light.share - 2) / 2).toBeLessThan(0.02);
  });

  it('holds each VM with cap 25 at or below 25% of a physical CPU', () => {
    const s = scenario(
      [vm('a', 'cpu-bound', { cap: 25 }), vm('b', 'cpu-bound', { cap: 25 }), vm('free', 'cpu-bound')],
      host({ policy: 'credit', quantumNs: MS }, 3_000 * MS, 2),
    );
    const { metrics } = eventsOf(s);
    expect(metrics.vms[0].share).toBeLessThanOrEqual(0.25);
    expect(metrics.vms[1].share).toBeLessThanOrEqual(0.25);
    expect(metrics.vms[0].share).toBeGreaterThan(0.23);
    expect(metrics.vms[2].share).toBeGreaterThan(0.95);
  });

  it('gives an I/O-bound VM a wake-up latency far below the same without BOOST', () => {
    const s = scenario(
      [vm('io', 'io-bound', {}, { params: { BURST_NS: 20_000, IO_NS: 2_000_000 } }), vm('hog-a', 'cpu-bound'), vm('hog-b', 'cpu-bound')],
      host({ policy: 'credit', quantumNs: MS, timesliceNs: 30 * MS, ratelimitNs: MS, tickNs: 10 * MS }, 1_500 * MS),
    );
    const boosted = collect(s).run.metrics.vms[0].wakeLatency;
    const plain = collect(s, { boost: false }).run.metrics.vms[0].wakeLatency;
    expect(boosted.count).toBeGreaterThan(100);
    expect(boosted.p95Us).toBeLessThan(1_100); // at most the 1 ms ratelimit, plus switch costs
    expect(plain.p95Us).toBeGreaterThan(10 * boosted.p95Us);
  });
});

describe('credit2 (Xen)', () => {
  it('splits one physical CPU in proportion to weight (1:2 within 3%)', () => {
    const s = scenario([vm('light', 'cpu-bound', { weight: 256 }), vm('heavy', 'cpu-bound', { weight: 512 })], host({ policy: 'credit2', quantumNs: MS, ratelimitNs: MS, runqueueSize: 0 }, 2_000 * MS));
    const [light, heavy] = eventsOf(s).metrics.vms;
    expect(Math.abs(heavy.share / light.share - 2) / 2).toBeLessThan(0.03);
  });

  it('caps by budget: a VM with cap 30 gets at most 30%', () => {
    const s = scenario([vm('capped', 'cpu-bound', { cap: 30 }), vm('free', 'cpu-bound')], host({ policy: 'credit2', quantumNs: MS, ratelimitNs: MS, runqueueSize: 0 }, 1_000 * MS));
    const [capped, free] = eventsOf(s).metrics.vms;
    expect(capped.share).toBeLessThanOrEqual(0.3);
    expect(capped.share).toBeGreaterThan(0.27);
    expect(free.share).toBeGreaterThan(0.65);
  });
});

describe('cfs (CFS/EEVDF-like)', () => {
  it('gives CPU-bound VMs shares that follow their weights (1:2:4 within 3%)', () => {
    const s = scenario(
      [vm('a', 'cpu-bound', { weight: 256 }), vm('b', 'cpu-bound', { weight: 512 }), vm('c', 'cpu-bound', { weight: 1024 })],
      host({ policy: 'cfs', quantumNs: MS, latencyNs: 6 * MS, minGranularityNs: 750_000 }, 1_000 * MS),
    );
    const [a, b, c] = eventsOf(s).metrics.vms;
    const total = a.share + b.share + c.share;
    expect(Math.abs(a.share / total - 1 / 7) * 7).toBeLessThan(0.03);
    expect(Math.abs(b.share / total - 2 / 7) * 3.5).toBeLessThan(0.03);
    expect(Math.abs(c.share / total - 4 / 7) * 1.75).toBeLessThan(0.03);
  });
});

describe('rtds (Xen, global EDF)', () => {
  const rt = (name: string, wcetNs: number, budgetNs: number, periodNs: number): VmSpec =>
    vm('x', 'periodic-rt', { budgetNs, periodNs, extratime: 0 }, { name, params: { PERIOD_NS: periodNs, WCET_NS: wcetNs, DEADLINE_NS: periodNs } });

  it('meets every deadline of a feasible set next to a CPU hog', () => {
    const s = scenario(
      [rt('rt-a', 2 * MS, 3 * MS, 10 * MS), rt('rt-b', 4 * MS, 6 * MS, 20 * MS), rt('rt-c', 1 * MS, 2 * MS, 5 * MS), vm('hog', 'cpu-bound', { budgetNs: MS, periodNs: 10 * MS, extratime: 1 })],
      host({ policy: 'rtds', quantumNs: MS }, 1_000 * MS),
    );
    const { metrics } = eventsOf(s);
    expect(metrics.system.deadlineJobs).toBeGreaterThan(300);
    expect(metrics.system.deadlineMisses).toBe(0);
    expect(metrics.vms[3].share).toBeGreaterThan(0.05); // the hog still gets its budget and the slack
  });

  it('misses deadlines when the set is infeasible (utilisation above 1)', () => {
    const s = scenario(
      [rt('rt-a', 6 * MS, 6 * MS, 10 * MS), rt('rt-b', 6 * MS, 6 * MS, 10 * MS)],
      host({ policy: 'rtds', quantumNs: MS }, 500 * MS),
    );
    const { metrics } = eventsOf(s);
    expect(metrics.system.deadlineMisses).toBeGreaterThan(10);
  });
});

describe('null (Xen)', () => {
  it('pins every vCPU to one physical CPU for the whole run, honouring sched.pcpu', () => {
    const s = scenario(
      [vm('a', 'io-bound'), vm('b', 'cpu-bound', { pcpu: 3 }), vm('c', 'interactive'), vm('d', 'cpu-bound')],
      host({ policy: 'null', quantumNs: MS }, 200 * MS, 4),
    );
    const events: SimEvent[] = [];
    const run = runCollect(s, undefined, events);
    const seen = new Map<string, Set<number>>();
    for (const event of events) {
      if (event.type !== 'vcpu.running') continue;
      const set = seen.get(event.src) ?? new Set<number>();
      set.add(event.data.pcpu);
      seen.set(event.src, set);
    }
    expect(seen.size).toBe(4);
    expect([...seen.values()].every((set) => set.size === 1)).toBe(true);
    expect([...(seen.get('vm/b/vcpu/0') as Set<number>)]).toEqual([3]);
    expect(new Set([...seen.values()].map((set) => [...set][0])).size).toBe(4);
    expect(run.metrics.system.migrations).toBe(0);
    expect(run.metrics.vms[3].share).toBeGreaterThan(0.99); // alone on its CPU: never preempted
  });
});

describe('arinc653', () => {
  it('runs each VM only inside its own slots of the major frame, and stops it at the slot end exactly', () => {
    const frame = [
      { vm: 'a', durationNs: 5 * MS },
      { vm: 'b', durationNs: 3 * MS },
      { vm: null, durationNs: 2 * MS },
      { vm: 'c', durationNs: 4 * MS },
    ];
    const s = scenario([vm('a', 'cpu-bound'), vm('b', 'interactive', {}, { params: { THINK_NS: 2 * MS, BURST_NS: 500_000, SEED: 3 } }), vm('c', 'cpu-bound')], host({ policy: 'arinc653', quantumNs: 2 * MS, frame }, 140 * MS));
    const events: SimEvent[] = [];
    let policy: Arinc653Policy | undefined;
    const again = runCollect(s, (options) => (policy = new Arinc653Policy(options)), events);
    const owner = (policy as Arinc653Policy).ownerAt.bind(policy);
    const slotEnd = (t: number): number => {
      let end = 0;
      while (end <= t) for (const slot of frame) if ((end += slot.durationNs) > t) break;
      return end;
    };
    const openSince = new Map<string, number>();
    let intervals = 0;
    for (const event of events) {
      if (event.type === 'vcpu.running') {
        expect(owner(event.t)).toBe(event.src.split('/')[1]);
        openSince.set(event.src, event.t);
      } else if ((event.type === 'exit.preempt' || event.type === 'vcpu.blocked') && openSince.has(event.src)) {
        const since = openSince.get(event.src) as number;
        expect(event.t).toBeLessThanOrEqual(slotEnd(since));
        openSince.delete(event.src);
        intervals++;
      }
    }
    expect(intervals).toBeGreaterThan(20);
    // a and c are CPU-bound: each gets exactly its slots (minus switch costs), c 4 ms in 14.
    const [a, , c] = again.metrics.vms;
    expect(a.share).toBeGreaterThan((5 / 14) * 0.97);
    expect(a.share).toBeLessThanOrEqual(5 / 14);
    expect(c.share).toBeGreaterThan((4 / 14) * 0.97);
    expect(c.share).toBeLessThanOrEqual(4 / 14);
  });
});


function runCollect(s: Scenario, policy: PolicyFactory | undefined, into: SimEvent[]) {
  const simulation = new Simulation({ scenario: s, policy });
  const collector = new MetricsCollector(simulation.bus, simulation.vms.map((v) => v.name));
  simulation.bus.events$.subscribe((event) => into.push(event));
  const summary = simulation.run();
  return { simulation, summary, metrics: collector.finish(simulation) };
}

describe('gang (co-scheduling)', () => {
  /** Time during which some but not all vCPUs of an SMP VM run, over the run time. */
  function partialFraction(events: readonly SimEvent[], name: string, width: number, endNs: number): number {
    const running = new Set<string>();
    let partialNs = 0;
    let since = 0;
    for (const event of events) {
      if (!event.src.startsWith(`vm/${name}/vcpu/`)) continue;
      const before = running.size;
      if (event.type === 'vcpu.running') running.add(event.src);
      else if (event.type === 'vcpu.runnable' || event.type === 'vcpu.blocked' || event.type === 'vcpu.halted') running.delete(event.src);
      else continue;
      if (before > 0 && before < width) partialNs += event.t - since;
      since = event.t;
    }
    if (running.size > 0 && running.size < width) partialNs += endNs - since;
    return partialNs / endNs;
  }

  it('runs the vCPUs of an SMP VM together (partly running under 1% of the time), unlike round-robin', () => {
    const vms = [vm('duo', 'smp-lock', {}, { vcpus: 2 }), vm('trio', 'smp-lock', {}, { vcpus: 3 }), vm('solo', 'cpu-bound')];
    const gangEvents: SimEvent[] = [];
    const gang = runCollect(scenario(vms, host({ policy: 'gang', quantumNs: MS }, 100 * MS, 4)), undefined, gangEvents);
    const rrEvents: SimEvent[] = [];
    runCollect(scenario(vms, host({ policy: 'round-robin', quantumNs: MS }, 100 * MS, 4)), undefined, rrEvents);
    expect(partialFraction(gangEvents, 'trio', 3, 100 * MS)).toBeLessThan(0.01);
    expect(partialFraction(gangEvents, 'duo', 2, 100 * MS)).toBeLessThan(0.01);
    expect(partialFraction(rrEvents, 'trio', 3, 100 * MS)).toBeGreaterThan(0.1);
    const [duo, trio] = gang.metrics.vms;
    expect(duo.workUnits).toBeGreaterThan(100);
    expect(trio.workUnits).toBeGreaterThan(100);
  });
});

describe('every policy is deterministic', () => {
  it.each(['round-robin', 'credit', 'credit2', 'cfs', 'rtds', 'null', 'arinc653', 'gang'] as const)('%s: same scenario and seed, byte-identical log', (policy) => {
    const vms = [
      vm('batch', 'cpu-bound', { weight: 512 }, { vcpus: 2 }),
      vm('web', 'io-bound'),
      vm('desk', 'interactive'),
      vm('rt', 'periodic-rt', {}, { params: { PERIOD_NS: 5 * MS, WCET_NS: MS, DEADLINE_NS: 5 * MS } }),
      vm('db', 'smp-lock', { cap: 150 }, { vcpus: 3 }),
    ];
    const s = scenario(vms, host({ policy, quantumNs: MS }, 60 * MS, 3));
    const first = runScenario(s, 9);
    const second = runScenario(s, 9);
    expect(first.log).toBe(second.log);
    expect(first.events.length).toBeGreaterThan(100);
    expect(runScenario(s, 10).log).not.toBe(first.log);
  });
});
