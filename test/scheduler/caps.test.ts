/**
 * Contract tests of the schedulers' cap code (issue 11), against Xen's rules, not against the
 * policies' own arithmetic:
 *
 * - credit (xen/common/sched/credit.c, csched_acct): a capped VM's credit_cap is
 *   ceil(cap × credits_per_tslice / 100), shared by its active vCPUs (rounded up); it lowers the
 *   VM's credit_peak. At accounting a vCPU whose credit is below -credit_cap is parked (it runs no
 *   more), and one whose credit is back to 0 or more is unparked; nothing else parks or unparks
 *   it. credit is floored at minus one slice. Under vmmsim's `period` enforcement a capped vCPU is
 *   parked the moment its credit is gone and never holds more than its share of the cap.
 * - credit2 (xen/common/sched/credit2.c, simplified as docs/scheduling.md says): a capped VM
 *   gets cap% of a 10 ms period as budget; its vCPUs run no further once it is spent and come
 *   back at the next replenishment, when the budget grows by the cap's worth, at most to it.
 *
 * The policies are driven directly (policyDriver.ts), with exact CPU time: the references below
 * are written from the rules above, and the trace must match them to the nanosecond.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CreditPolicy } from '../../src/actors/scheduler/credit.js';
import { Credit2Policy } from '../../src/actors/scheduler/credit2.js';
import type { CapEnforcement } from '../../src/core/scenario/schema.js';
import { drive, entity, ranIn, type Interval, type Load } from './policyDriver.js';

const MS = 1_000_000;
const PERIOD2_NS = 10 * MS;

interface VcpuView {
  readonly id: string;
  readonly credit: number;
  readonly priority: string;
  readonly active: boolean;
  readonly parked: boolean;
}

const creditPolicy = (pcpus: number, sliceNs: number, capEnforcement: CapEnforcement = 'park') =>
  new CreditPolicy({ pcpus, quantumNs: 1 * MS, scheduler: { policy: 'credit', timesliceNs: sliceNs, capEnforcement } as never });

/**
 * Xen's rule for a lone CPU-bound vCPU of a capped VM with its own pCPU: it runs whole slices
 * while unparked; at every accounting (each slice) it is charged what it ran and granted the
 * cap's share; below -share it is parked, at 0 or more unparked; credit is floored at -slice.
 */
function xenCapReference(share: number, sliceNs: number, endNs: number): Interval[] {
  const intervals: Interval[] = [];
  let credit = 0;
  let parked = false;
  for (let t = 0; t < endNs; t += sliceNs) {
    if (t > 0) {
      credit += share;
      if (credit < 0) {
        if (credit < -share) parked = true;
        if (credit < -sliceNs) credit = -sliceNs;
      } else {
        parked = false;
      }
    }
    if (!parked) {
      intervals.push({ key: 0, pcpu: 0, start: t, end: Math.min(endNs, t + sliceNs) });
      credit -= Math.min(endNs, t + sliceNs) - t;
    }
  }
  return intervals;
}

/** Joins back-to-back intervals of one vCPU on one pCPU (the driver splits them at every slice end). */
function merged(intervals: readonly Interval[], key: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const interval of intervals.filter((i) => i.key === key).sort((a, b) => a.start - b.start)) {
    const last = out[out.length - 1];
    if (last !== undefined && last.end === interval.start) last.end = interval.end;
    else out.push({ start: interval.start, end: interval.end });
  }
  return out;
}

describe('credit caps (park, Xen): a lone capped vCPU follows csched_acct to the nanosecond', () => {
  it('cap 30 of a 30 ms slice: runs 0-30, parked at -21 ms, back at 120 ms (credit +6), and so on', () => {
    const policy = creditPolicy(1, 30 * MS);
    const trace = drive(policy, 1, [{ entity: entity(0, 'capped', { cap: 30 }) }], 600 * MS);
    expect(merged(trace.intervals, 0)).toEqual([
      { start: 0, end: 30 * MS },
      { start: 120 * MS, end: 150 * MS },
      { start: 210 * MS, end: 240 * MS },
      { start: 300 * MS, end: 330 * MS },
      { start: 420 * MS, end: 450 * MS },
      { start: 510 * MS, end: 540 * MS },
    ]);
    expect(merged(trace.intervals, 0)).toEqual(merged(xenCapReference(9 * MS, 30 * MS, 600 * MS), 0));
  });

  it('any cap, slice and vCPU count: every vCPU of a VM alone on as many pCPUs runs as the reference says (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 99 }), fc.constantFrom(3 * MS, 6 * MS, 30 * MS, 7 * MS + 3), (count, capPerVcpu, sliceNs) => {
        const cap = capPerVcpu * count - (count > 1 ? capPerVcpu % 7 : 0);
        const share = Math.ceil(Math.ceil((cap * sliceNs) / 100) / count);
        const endNs = 40 * sliceNs;
        const policy = creditPolicy(count, sliceNs);
        const loads: Load[] = Array.from({ length: count }, (_, key) => ({ entity: entity(key, 'capped', { cap }) }));
        const trace = drive(policy, count, loads, endNs);
        const reference = merged(xenCapReference(share, sliceNs, endNs), 0);
        for (let key = 0; key < count; key++) expect(merged(trace.intervals, key)).toEqual(reference);
      }),
      { numRuns: 60, seed: 11_290 },
    );
  });

  it('snapshot at the accounting that parks it: OVER, parked, credit -21 ms; at the one that unparks it: UNDER, credit +6 ms', () => {
    const policy = creditPolicy(1, 30 * MS);
    const seen = new Map<number, VcpuView>();
    drive(policy, 1, [{ entity: entity(0, 'capped', { cap: 30 }) }], 130 * MS, (now) => {
      seen.set(now, (policy.snapshot() as { vcpus: VcpuView[] }).vcpus[0]);
    });
    expect(seen.get(30 * MS)).toMatchObject({ credit: -21 * MS, priority: 'OVER', active: true, parked: true });
    expect(seen.get(60 * MS)).toMatchObject({ credit: -12 * MS, priority: 'OVER', parked: true });
    expect(seen.get(90 * MS)).toMatchObject({ credit: -3 * MS, priority: 'OVER', parked: true });
    expect(seen.get(120 * MS)).toMatchObject({ credit: 6 * MS, priority: 'UNDER', parked: false });
  });

  it('a cap of 100% of one pCPU or more never parks a lone CPU-bound vCPU', () => {
    for (const cap of [100, 150]) {
      const policy = creditPolicy(1, 30 * MS);
      let parked = false;
      const trace = drive(policy, 1, [{ entity: entity(0, 'capped', { cap }) }], 300 * MS, () => {
        parked ||= (policy.snapshot() as { vcpus: VcpuView[] }).vcpus[0].parked;
      });
      expect(parked).toBe(false);
      expect(ranIn(trace, 0, 0, 300 * MS)).toBe(300 * MS);
    }
  });
});

/** A random mix of VMs for the swarm checks: caps, weights, vCPU counts, block/wake patterns. */
const vmsArbitrary = fc.array(
  fc.record({
    cap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 99 })),
    weight: fc.constantFrom(128, 256, 512),
    vcpus: fc.integer({ min: 1, max: 2 }),
    busyNs: fc.option(fc.integer({ min: 100_000, max: 12 * MS }), { nil: undefined }),
    sleepNs: fc.integer({ min: 50_000, max: 8 * MS }),
    startNs: fc.integer({ min: 0, max: 20 * MS }),
  }),
  { minLength: 1, maxLength: 4 },
);

interface VmDraw {
  readonly cap: number;
  readonly weight: number;
  readonly vcpus: number;
  readonly busyNs?: number;
  readonly sleepNs: number;
  readonly startNs: number;
}

function loadsOf(vms: readonly VmDraw[]): Load[] {
  const loads: Load[] = [];
  vms.forEach((vm, index) => {
    for (let vcpu = 0; vcpu < vm.vcpus; vcpu++) {
      const key = loads.length;
      loads.push({
        entity: { key, id: `vm/v${index}/vcpu/${vcpu}`, vm: `v${index}`, index: vcpu, params: { weight: vm.weight, cap: vm.cap } },
        ...(vm.busyNs === undefined ? {} : { busyNs: vm.busyNs, sleepNs: vm.sleepNs }),
        startNs: vm.startNs,
      });
    }
  });
  return loads;
}

describe('credit caps (park): the parking rule holds in any mix of VMs, wake-ups included (swarm property)', () => {
  it('parks only at accounting below -share, unparks only at accounting at 0 or more, never parks an uncapped vCPU, never leaves a parked vCPU running', () => {
    fc.assert(
      fc.property(vmsArbitrary, fc.integer({ min: 1, max: 3 }), fc.constantFrom(6 * MS, 30 * MS), (vms, pcpus, sliceNs) => {
        const loads = loadsOf(vms);
        const policy = creditPolicy(pcpus, sliceNs);
        const before = new Map<string, VcpuView>();
        const capOf = new Map(loads.map((load) => [load.entity.id, load.entity.params.cap]));
        const vmOf = new Map(loads.map((load) => [load.entity.id, load.entity.vm]));
        drive(policy, pcpus, loads, 20 * sliceNs, (now, runningKeys) => {
          const views = (policy.snapshot() as { vcpus: VcpuView[] }).vcpus;
          const accounting = now > 0 && now % sliceNs === 0;
          for (const view of views) {
            const cap = capOf.get(view.id) ?? 0;
            const previous = before.get(view.id);
            const wasParked = previous?.parked ?? false;
            if (cap === 0) expect(view.parked, `${view.id} uncapped at ${now}`).toBe(false);
            if (view.parked !== wasParked) expect(accounting, `${view.id} parked=${view.parked} off accounting at ${now}`).toBe(true);
            if (accounting && view.parked && !wasParked) {
              // credit_cap shared among the VM's active vCPUs (as they were at this accounting).
              const active = views.filter((other) => vmOf.get(other.id) === vmOf.get(view.id) && (other.active || other.id === view.id)).length;
              const share = Math.ceil(Math.ceil((cap * sliceNs) / 100) / Math.max(1, active));
              expect(view.credit, `${view.id} parked at ${now}`).toBeLessThan(0);
              if (view.credit > -sliceNs) expect(view.credit, `${view.id} parked at ${now} (share ${share})`).toBeLessThan(-share + 1 + sliceNs);
            }
            if (accounting && previous !== undefined && previous.active) {
              if (view.credit >= 0) expect(view.parked, `${view.id} credit ${view.credit} at ${now}`).toBe(false);
            }
            if (view.parked) expect(runningKeys.some((key) => loads[key].entity.id === view.id), `${view.id} parked and running at ${now}`).toBe(false);
            if (accounting && view.active) expect(view.credit, `${view.id} floored at -slice at ${now}`).toBeGreaterThanOrEqual(-sliceNs);
          }
          for (const view of views) before.set(view.id, view);
        });
      }),
      { numRuns: 80, seed: 11_291 },
    );
  });

  it('a capped vCPU that blocks and wakes often holds its cap within one slice over every 300 ms window (with a hog competing)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 60 }), fc.integer({ min: 100_000, max: 3 * MS }), fc.integer({ min: 50_000, max: 3 * MS }), (cap, busyNs, sleepNs) => {
        const sliceNs = 30 * MS;
        const policy = creditPolicy(1, sliceNs);
        const trace = drive(policy, 1, [{ entity: entity(0, 'capped', { cap }), busyNs, sleepNs }, { entity: entity(1, 'hog') }], 1500 * MS);
        for (let from = 0; from + 300 * MS <= 1500 * MS; from += 150 * MS) {
          expect(ranIn(trace, 0, from, from + 300 * MS), `window at ${from}`).toBeLessThanOrEqual((cap * 300 * MS) / 100 + sliceNs);
        }
        // Work conserving: the hog takes whatever the capped vCPU does not.
        expect(ranIn(trace, 0, 0, 1500 * MS) + ranIn(trace, 1, 0, 1500 * MS)).toBe(1500 * MS);
      }),
      { numRuns: 40, seed: 11_292 },
    );
  });
});

describe('credit caps (period): never more than the share of any accounting period', () => {
  it('a lone capped vCPU runs its share, and no more, in every period after the first', () => {
    for (const [cap, count] of [
      [30, 1],
      [50, 2],
      [7, 1],
    ] as const) {
      const sliceNs = 6 * MS;
      const share = Math.ceil(Math.ceil((cap * sliceNs) / 100) / count);
      const policy = creditPolicy(count, sliceNs, 'period');
      const loads: Load[] = Array.from({ length: count }, (_, key) => ({ entity: entity(key, 'capped', { cap }) }));
      const trace = drive(policy, count, loads, 30 * sliceNs);
      for (let key = 0; key < count; key++) {
        for (let period = 0; period < 30; period++) {
          const ran = ranIn(trace, key, period * sliceNs, (period + 1) * sliceNs);
          expect(ran, `vCPU ${key} period ${period}`).toBeLessThanOrEqual(share);
          if (period >= 2) expect(ran, `vCPU ${key} period ${period}`).toBeGreaterThanOrEqual(share - 1);
        }
      }
      // Every slice given to it is cut at its credit: never longer than its share.
      for (const pick of trace.picks) expect(pick.sliceNs).toBeLessThanOrEqual(share);
    }
  });

  it('a capped vCPU that blocks and wakes keeps running while it has credit: it gets its share of every period, burst by burst', () => {
    const sliceNs = 6 * MS;
    const share = Math.ceil((50 * sliceNs) / 100);
    const trace = drive(creditPolicy(1, sliceNs, 'period'), 1, [{ entity: entity(0, 'capped', { cap: 50 }), busyNs: MS / 2, sleepNs: MS / 2 }], 20 * sliceNs);
    for (let period = 2; period < 20; period++) {
      const ran = ranIn(trace, 0, period * sliceNs, (period + 1) * sliceNs);
      expect(ran, `period ${period}`).toBeLessThanOrEqual(share);
      expect(ran, `period ${period}`).toBeGreaterThanOrEqual(share - MS / 2);
    }
  });

  it('with a hog and wake-ups: a capped vCPU never exceeds its share of any period (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 95 }), fc.option(fc.integer({ min: 100_000, max: 4 * MS }), { nil: undefined }), fc.integer({ min: 50_000, max: 3 * MS }), (cap, busyNs, sleepNs) => {
        const sliceNs = 6 * MS;
        const share = Math.ceil((cap * sliceNs) / 100);
        const policy = creditPolicy(1, sliceNs, 'period');
        const capped: Load = busyNs === undefined ? { entity: entity(0, 'capped', { cap }) } : { entity: entity(0, 'capped', { cap }), busyNs, sleepNs };
        const trace = drive(policy, 1, [capped, { entity: entity(1, 'hog') }], 40 * sliceNs);
        for (let period = 0; period < 40; period++) expect(ranIn(trace, 0, period * sliceNs, (period + 1) * sliceNs), `period ${period}`).toBeLessThanOrEqual(share);
        expect(ranIn(trace, 0, 0, 40 * sliceNs) + ranIn(trace, 1, 0, 40 * sliceNs)).toBe(40 * sliceNs);
      }),
      { numRuns: 40, seed: 11_293 },
    );
  });
});

describe('credit2 caps (budget per 10 ms period)', () => {
  const credit2 = (pcpus: number) => new Credit2Policy({ pcpus, quantumNs: 1 * MS, scheduler: { policy: 'credit2' } as never });

  it('a lone CPU-bound capped vCPU runs exactly its budget at the start of every period', () => {
    for (const cap of [1, 25, 50, 99]) {
      const capNs = Math.floor((cap * PERIOD2_NS) / 100);
      const trace = drive(credit2(1), 1, [{ entity: entity(0, 'capped', { cap }) }], 100 * MS);
      expect(merged(trace.intervals, 0)).toEqual(Array.from({ length: 10 }, (_, period) => ({ start: period * PERIOD2_NS, end: period * PERIOD2_NS + capNs })));
    }
  });

  it('a cap of 100% or more leaves a lone vCPU running all the time', () => {
    const trace = drive(credit2(1), 1, [{ entity: entity(0, 'capped', { cap: 100 }) }], 50 * MS);
    expect(ranIn(trace, 0, 0, 50 * MS)).toBe(50 * MS);
  });

  it('two vCPUs of one capped VM may overdraw a period together, and repay it: over k periods at most k + 1 budgets, and not less than k - 1', () => {
    const cap = 30;
    const capNs = (cap * PERIOD2_NS) / 100;
    const trace = drive(credit2(2), 2, [{ entity: entity(0, 'capped', { cap }) }, { entity: entity(1, 'capped', { cap }) }], 200 * MS);
    const vmIn = (from: number, to: number) => ranIn(trace, 0, from, to) + ranIn(trace, 1, from, to);
    // The first period: both start with the whole budget as their slice, and overdraw it.
    expect(vmIn(0, PERIOD2_NS)).toBe(2 * capNs);
    for (let periods = 1; periods <= 20; periods++) {
      const total = vmIn(0, periods * PERIOD2_NS);
      expect(total, `${periods} periods`).toBeLessThanOrEqual((periods + 1) * capNs);
      expect(total, `${periods} periods`).toBeGreaterThanOrEqual((periods - 1) * capNs);
    }
  });

  it('with a hog and wake-ups, a capped VM never runs more than its budget in a period (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 95 }), fc.option(fc.integer({ min: 100_000, max: 4 * MS }), { nil: undefined }), fc.integer({ min: 50_000, max: 3 * MS }), fc.integer({ min: 1, max: 2 }), (cap, busyNs, sleepNs, pcpus) => {
        const capNs = Math.max(1, Math.floor((cap * PERIOD2_NS) / 100));
        const capped: Load = busyNs === undefined ? { entity: entity(0, 'capped', { cap }) } : { entity: entity(0, 'capped', { cap }), busyNs, sleepNs };
        const trace = drive(credit2(pcpus), pcpus, [capped, { entity: entity(1, 'hog') }, { entity: entity(2, 'hog2') }], 200 * MS);
        let total = 0;
        for (let period = 0; period < 20; period++) {
          const ran = ranIn(trace, 0, period * PERIOD2_NS, (period + 1) * PERIOD2_NS);
          expect(ran, `period ${period}`).toBeLessThanOrEqual(capNs);
          total += ran;
        }
        // It is not starved either: CPU-bound, it gets its budget, but for what a runner's ratelimit holds back.
        // (or its fair share of the pCPUs among three CPU-bound vCPUs, when that is less).
        if (busyNs === undefined) expect(total).toBeGreaterThanOrEqual(Math.min(20 * capNs, (200 * MS * pcpus) / 3) - 20 * MS);
      }),
      { numRuns: 40, seed: 11_294 },
    );
  });

  it('a capped vCPU that blocks while parked is not brought back by the replenishment, and runs again when it wakes', () => {
    // Busy 4 ms, asleep 7 ms, cap 20 (2 ms a period): it is parked at 2 ms with 2 ms of its burst left.
    const trace = drive(credit2(1), 1, [{ entity: entity(0, 'capped', { cap: 20 }), busyNs: 4 * MS, sleepNs: 7 * MS }], 60 * MS);
    for (let period = 0; period < 6; period++) expect(ranIn(trace, 0, period * PERIOD2_NS, (period + 1) * PERIOD2_NS)).toBeLessThanOrEqual(2 * MS);
    expect(ranIn(trace, 0, 0, 60 * MS)).toBeGreaterThan(4 * MS);
  });
});

describe('credit: what the cap code must leave alone, and Xen rules next to it', () => {
  const policyAt = (pcpus: number, sliceNs = 30 * MS, capEnforcement: CapEnforcement = 'park') => {
    const policy = creditPolicy(pcpus, sliceNs, capEnforcement);
    let now = 0;
    policy.attach({
      get now() {
        return now;
      },
      preempt: () => undefined,
      wakeIdle: () => undefined,
      requestTick: () => undefined,
    });
    return { policy, at: (t: number) => (now = t) };
  };
  const view = (policy: CreditPolicy, id: string) => (policy.snapshot() as { vcpus: VcpuView[] }).vcpus.find((vcpu) => vcpu.id === id) as VcpuView;

  it('csched_unit_wake: a waking vCPU is BOOSTed only when UNDER and not parked; a preempted one never; an OVER capped one (not parked yet) stays OVER', () => {
    for (const cap of [0, 50]) {
      const { policy, at } = policyAt(1);
      const vcpu = entity(0, 'v', { cap });
      policy.enqueue(vcpu, 0, 'start');
      policy.pick(0, 0);
      for (const t of [10, 20, 30]) policy.tick(at(t * MS));
      // Uncapped: -30 + 30 = 0, UNDER. Capped 50: -30 + 15 = -15, OVER, and not below -15: not parked.
      expect(view(policy, vcpu.id)).toMatchObject(cap === 0 ? { credit: 0, priority: 'UNDER', parked: false } : { credit: -15 * MS, priority: 'OVER', parked: false });
      policy.charge(vcpu, 0, 30 * MS);
      policy.leave(0, vcpu, 30 * MS);
      policy.enqueue(vcpu, 31 * MS, 'wake');
      expect(view(policy, vcpu.id).priority).toBe(cap === 0 ? 'BOOST' : 'OVER');
    }
    // A preempted vCPU queues at UNDER, behind a waker's BOOST; with boost off, nobody is BOOSTed.
    for (const boost of [true, false]) {
      const policy = new CreditPolicy({ pcpus: 1, quantumNs: 1 * MS }, { boost });
      policy.attach({ now: 0, preempt: () => undefined, wakeIdle: () => undefined, requestTick: () => undefined });
      policy.enqueue(entity(0, 'a'), 0, 'preempt');
      policy.enqueue(entity(1, 'b'), 0, 'wake');
      expect(policy.pick(0, 0)?.entity.key).toBe(boost ? 1 : 0);
    }
  });

  it('csched_acct: a vCPU above one slice of credit (not at it) stops earning and its credit is halved; either enforcement', () => {
    for (const capEnforcement of ['park', 'period'] as const) {
      // Runs 15 ms, then sleeps: +30 ms at 30 ms (credit 15), +30 at 60 ms (45 > 30): off the active list, 22.5 ms.
      const policy = creditPolicy(1, 30 * MS, capEnforcement);
      const seen = new Map<number, VcpuView>();
      drive(policy, 1, [{ entity: entity(0, 'v'), busyNs: 15 * MS, sleepNs: 1000 * MS }], 90 * MS, (now) => seen.set(now, view(policy, 'vm/v/vcpu/0')));
      expect(seen.get(30 * MS), capEnforcement).toMatchObject({ credit: 15 * MS, priority: 'UNDER', active: true });
      expect(seen.get(60 * MS), capEnforcement).toMatchObject({ credit: 22_500_000, priority: 'UNDER', active: false });
      // Runs 30 ms, then sleeps: 0 at 30 ms, exactly one slice (30 ms) at 60 ms: kept, still earning; 60 > 30 at 90 ms.
      const exact = creditPolicy(1, 30 * MS, capEnforcement);
      const atSlice = new Map<number, VcpuView>();
      drive(exact, 1, [{ entity: entity(0, 'v'), busyNs: 30 * MS, sleepNs: 1000 * MS }], 90 * MS, (now) => atSlice.set(now, view(exact, 'vm/v/vcpu/0')));
      expect(atSlice.get(60 * MS), capEnforcement).toMatchObject({ credit: 30 * MS, active: true });
      expect(atSlice.get(90 * MS), capEnforcement).toMatchObject({ credit: 30 * MS, active: false });
    }
  });

  it('park enforcement carries a capped vCPU\'s credit from period to period (only period enforcement clips it to the share)', () => {
    // Cap 30 of 30 ms (share 9 ms); runs 15 ms, then sleeps: -6 at 30 ms, +3 at 60, +12 at 90 (park) or 9 (period).
    for (const capEnforcement of ['park', 'period'] as const) {
      const policy = creditPolicy(1, 30 * MS, capEnforcement);
      const seen = new Map<number, VcpuView>();
      drive(policy, 1, [{ entity: entity(0, 'v', { cap: 30 }), busyNs: 15 * MS, sleepNs: 1000 * MS }], 90 * MS, (now) => seen.set(now, view(policy, 'vm/v/vcpu/0')));
      if (capEnforcement === 'park') expect([30, 60, 90].map((t) => seen.get(t * MS)?.credit)).toEqual([-6 * MS, 3 * MS, 12 * MS]);
      else expect(seen.get(90 * MS)?.credit).toBe(9 * MS);
    }
  });

  it('credit_peak: a cap above what its vCPUs can use does not raise the peak (one slice per vCPU)', () => {
    // Two pCPUs; A (1 vCPU, cap 200, weight 1024) and B (weight 256), both CPU-bound. At 30 ms B, first
    // on the list, gets ceil(60 x 256 / 1280) = 12 ms; A's fair 48 ms is cut to its peak, 30 ms.
    const policy = creditPolicy(2, 30 * MS);
    const seen = new Map<number, VcpuView[]>();
    drive(policy, 2, [{ entity: entity(0, 'a', { cap: 200, weight: 1024 }) }, { entity: entity(1, 'b', { weight: 256 }) }], 30 * MS, (now) => seen.set(now, (policy.snapshot() as { vcpus: VcpuView[] }).vcpus));
    expect(seen.get(30 * MS)?.map((vcpu) => vcpu.credit)).toEqual([0, -18 * MS]);
  });

  it('weights: uncapped VMs share by weight, in park and period enforcement alike; a cap above the fair share changes nothing', () => {
    for (const capEnforcement of ['park', 'period'] as const) {
      const endNs = 3000 * MS;
      const byWeight = drive(creditPolicy(1, 30 * MS, capEnforcement), 1, [{ entity: entity(0, 'light', { weight: 256 }) }, { entity: entity(1, 'heavy', { weight: 512 }) }], endNs);
      const ratio = ranIn(byWeight, 1, 0, endNs) / ranIn(byWeight, 0, 0, endNs);
      expect(ratio, capEnforcement).toBeGreaterThan(1.8);
      expect(ratio, capEnforcement).toBeLessThan(2.2);
      const highCap = drive(creditPolicy(1, 30 * MS, capEnforcement), 1, [{ entity: entity(0, 'capped', { cap: 80 }) }, { entity: entity(1, 'other') }], endNs);
      expect(ranIn(highCap, 0, 0, endNs) / endNs, capEnforcement).toBeGreaterThan(0.45);
      expect(ranIn(highCap, 0, 0, endNs) / endNs, capEnforcement).toBeLessThan(0.55);
    }
  });

  it('period enforcement never parks an uncapped vCPU: alone it runs all the time, in one slice after another', () => {
    const trace = drive(creditPolicy(1, 6 * MS, 'period'), 1, [{ entity: entity(0, 'free') }], 60 * MS);
    expect(ranIn(trace, 0, 0, 60 * MS)).toBe(60 * MS);
    expect(trace.picks).toHaveLength(1);
  });

  it('a lone vCPU keeps its CPU at the end of its slice (nobody waits): one pick, park or not', () => {
    const trace = drive(creditPolicy(1, 30 * MS), 1, [{ entity: entity(0, 'free') }], 300 * MS);
    expect(trace.picks).toHaveLength(1);
    const capped = drive(creditPolicy(1, 30 * MS), 1, [{ entity: entity(0, 'capped', { cap: 30 }) }], 590 * MS);
    // Parked four times: picked again at each unparking only.
    expect(capped.picks.map((pick) => pick.t)).toEqual([0, 120, 210, 300, 420, 510].map((t) => t * MS));
  });

  it('an unparked running vCPU keeps its CPU through the accounting until its slice ends (only a parked one is preempted there)', () => {
    // A from 0 (UNDER from the 10 ms tick); B starts at 12 ms, BOOSTed, and takes the CPU (A ran past
    // the ratelimit). At 30 ms both are UNDER with credit (3 and 7 ms): B keeps the CPU to its slice's end, 42 ms.
    const trace = drive(creditPolicy(1, 30 * MS), 1, [{ entity: entity(0, 'a') }, { entity: entity(1, 'b'), startNs: 12 * MS }], 50 * MS);
    expect(trace.picks.slice(0, 3).map((pick) => [pick.t, pick.key])).toEqual([
      [0, 0],
      [12 * MS, 1],
      [42 * MS, 0],
    ]);
  });
});

describe('credit2: what the budget must leave alone', () => {
  const credit2 = (pcpus: number) => new Credit2Policy({ pcpus, quantumNs: 1 * MS, scheduler: { policy: 'credit2' } as never });

  it('an uncapped VM has no budget: beside a capped one it takes the rest of every period (work conserving)', () => {
    const trace = drive(credit2(1), 1, [{ entity: entity(0, 'capped', { cap: 20 }) }, { entity: entity(1, 'free') }, { entity: entity(2, 'free2') }], 100 * MS);
    expect(ranIn(trace, 0, 0, 100 * MS) + ranIn(trace, 1, 0, 100 * MS) + ranIn(trace, 2, 0, 100 * MS)).toBe(100 * MS);
    expect(ranIn(trace, 1, 0, 100 * MS)).toBeGreaterThan(35 * MS);
    expect(ranIn(trace, 2, 0, 100 * MS)).toBeGreaterThan(35 * MS);
    const snapshot = credit2(1);
    drive(snapshot, 1, [{ entity: entity(0, 'capped', { cap: 20 }) }, { entity: entity(1, 'free') }], 1 * MS);
    expect(Object.keys((snapshot.snapshot() as { budgets: Record<string, number> }).budgets)).toEqual(['capped']);
  });

  it('a vCPU with budget left keeps its CPU at the end of its slice; an uncapped lone one too (one pick)', () => {
    expect(drive(credit2(1), 1, [{ entity: entity(0, 'capped', { cap: 100 }) }], 50 * MS).picks).toHaveLength(1);
    expect(drive(credit2(1), 1, [{ entity: entity(0, 'free') }], 50 * MS).picks).toHaveLength(1);
  });

  it('a VM in debt after the replenishment stays parked for that whole period (no 1 ns runs)', () => {
    const cap = 30;
    const capNs = (cap * PERIOD2_NS) / 100;
    const trace = drive(credit2(2), 2, [{ entity: entity(0, 'capped', { cap }) }, { entity: entity(1, 'capped', { cap }) }], 40 * MS);
    const vmIn = (from: number, to: number) => ranIn(trace, 0, from, to) + ranIn(trace, 1, from, to);
    expect([0, 1, 2, 3].map((period) => vmIn(period * PERIOD2_NS, (period + 1) * PERIOD2_NS))).toEqual([2 * capNs, 0, 2 * capNs, 0]);
  });

  it('a vCPU paused while parked and resumed later is never queued twice (it never runs on two pCPUs at once)', () => {
    const policy = credit2(2);
    let now = 0;
    const host = { get now() { return now; }, preempt: () => undefined, wakeIdle: () => undefined, requestTick: () => undefined };
    policy.attach(host);
    const vcpu = entity(0, 'capped', { cap: 20 });
    policy.enqueue(vcpu, 0, 'start');
    expect(policy.pick(0, 0)?.sliceNs).toBe(2 * MS);
    now = 2 * MS;
    policy.charge(vcpu, 0, now);
    expect(policy.shouldPreempt(0, vcpu, now)).toBe(true);
    policy.leave(0, vcpu, now);
    policy.enqueue(vcpu, now, 'preempt'); // parked: the budget is spent
    policy.remove(vcpu); // paused while parked
    now = 10 * MS;
    policy.tick(now); // replenished: it is not runnable, so not queued
    expect(policy.waiting).toBe(0);
    policy.enqueue(vcpu, now, 'resume');
    expect(policy.pick(0, now)?.entity.key).toBe(0);
    now = 12 * MS;
    policy.charge(vcpu, 0, now);
    now = 20 * MS;
    policy.tick(now); // the next replenishment while it runs: nothing to unpark
    expect(policy.waiting).toBe(0);
    expect(policy.pick(1, now)).toBeUndefined();
  });
});

describe('credit2: the slice next to the budget (csched2_runtime)', () => {
  const credit2 = (pcpus: number) => new Credit2Policy({ pcpus, quantumNs: 1 * MS, scheduler: { policy: 'credit2' } as never });

  it('a lone vCPU runs for its credit, at most 10 ms: a burst after 3 ms of its 10 ms gets 7 ms', () => {
    const trace = drive(credit2(1), 1, [{ entity: entity(0, 'v'), busyNs: 3 * MS, sleepNs: 1 * MS }], 5 * MS);
    expect(trace.picks.map((pick) => pick.sliceNs)).toEqual([10 * MS, 7 * MS]);
  });

  it('no slice is longer than 10 ms, even for a vCPU that sleeps through credit resets and comes back with more than 10 ms', () => {
    // Two pCPUs, one run queue: the CPU-bound vCPU's resets give the sleeper 10 ms each, up to 10 ms + the carryover.
    const trace = drive(credit2(2), 2, [{ entity: entity(0, 'a') }, { entity: entity(1, 'sleeper'), busyNs: 1 * MS, sleepNs: 60 * MS }], 400 * MS);
    const sleeper = trace.picks.filter((pick) => pick.key === 1);
    expect(sleeper.length).toBeGreaterThan(3);
    expect(sleeper.slice(1).map((pick) => pick.sliceNs)).toEqual(sleeper.slice(1).map(() => 10 * MS));
  });
});

describe('credit2: the replenishment timer', () => {
  const credit2 = (pcpus: number) => new Credit2Policy({ pcpus, quantumNs: 1 * MS, scheduler: { policy: 'credit2' } as never });
  const budgets = (policy: Credit2Policy) => (policy.snapshot() as { budgets: Record<string, number> }).budgets;

  it('replenishes at period boundaries only: a tick at another instant (a wrapper passing its own ticks on) adds nothing', () => {
    const policy = credit2(1);
    let now = 0;
    const requests: number[] = [];
    policy.attach({ get now() { return now; }, preempt: () => undefined, wakeIdle: () => undefined, requestTick: (time) => void requests.push(time) });
    const vcpu = entity(0, 'capped', { cap: 20 });
    policy.enqueue(vcpu, 0, 'start');
    policy.pick(0, 0);
    now = 2 * MS;
    policy.charge(vcpu, 0, now);
    expect(budgets(policy)).toEqual({ capped: 0 });
    now = 5 * MS;
    policy.tick(now);
    expect(budgets(policy)).toEqual({ capped: 0 });
    now = 10 * MS;
    policy.tick(now);
    expect(budgets(policy)).toEqual({ capped: 2 * MS });
    expect(requests.at(-1)).toBe(20 * MS);
  });

  it('asks for no tick at all when no VM is capped (Xen arms the replenishment timer for capped domains only)', () => {
    const policy = credit2(1);
    const requests: number[] = [];
    policy.attach({ now: 0, preempt: () => undefined, wakeIdle: () => undefined, requestTick: (time) => void requests.push(time) });
    policy.enqueue(entity(0, 'free'), 0, 'start');
    policy.pick(0, 0);
    policy.tick(10 * MS);
    expect(requests).toEqual([]);
  });
});
