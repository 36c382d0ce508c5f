/**
 * A small stand-in for the monitor that drives a scheduling policy directly (no guests): physical
 * CPUs, vCPUs that compute for `busyNs` and block for `sleepNs` (CPU-bound when `sleepNs` is
 * absent), the policy's ticks and preemption requests. It calls the policy as the monitor does
 * (policy.ts): `pick` on an idle CPU, `charge` then `shouldPreempt`/`extend` or `leave` at a
 * slice's end, `charge` and `leave` when a vCPU blocks, `enqueue` when it wakes. It records who
 * ran where and when, and calls `observe` after every instant so a checker can read the policy's
 * snapshot. Deterministic: same inputs, same trace.
 */
import type { PolicyHost, SchedEntity, SchedulingPolicy } from '../../src/actors/scheduler/policy.js';

export interface Load {
  readonly entity: SchedEntity;
  /** Compute burst length (ns); absent: CPU-bound. */
  readonly busyNs?: number;
  /** Sleep between bursts (ns); absent: never blocks. */
  readonly sleepNs?: number;
  /** When it first becomes runnable (ns, default 0). */
  readonly startNs?: number;
}

export interface Interval {
  readonly key: number;
  readonly pcpu: number;
  readonly start: number;
  readonly end: number;
}

export interface Trace {
  readonly intervals: Interval[];
  /** Every pick: when, where, whom, and the slice given. */
  readonly picks: { readonly t: number; readonly pcpu: number; readonly key: number; readonly sliceNs: number }[];
}

interface LoadState {
  readonly load: Load;
  /** Compute left in this burst (Infinity for CPU-bound). */
  left: number;
  /** When it wakes (Infinity: not blocked). */
  wakeAt: number;
  started: boolean;
}

export function drive(policy: SchedulingPolicy, pcpus: number, loads: readonly Load[], endNs: number, observe?: (now: number, runningKeys: readonly number[]) => void): Trace {
  let now = 0;
  let tickAt = Number.POSITIVE_INFINITY;
  const preempts = new Set<number>();
  const host: PolicyHost = {
    get now() {
      return now;
    },
    preempt: (pcpu) => {
      // The contract: a physical CPU's index (no effect on an idle one).
      if (!(Number.isInteger(pcpu) && pcpu >= 0 && pcpu < pcpus)) throw new Error(`preempt(${pcpu}): no such pCPU`);
      preempts.add(pcpu);
    },
    wakeIdle: () => undefined,
    requestTick: (time) => {
      if (time < tickAt) tickAt = time;
    },
  };
  policy.attach?.(host);
  const running: ({ state: LoadState; since: number; sliceEnd: number } | null)[] = Array.from({ length: pcpus }, () => null);
  const states: LoadState[] = loads.map((load) => ({ load, left: load.busyNs ?? Number.POSITIVE_INFINITY, wakeAt: load.startNs ?? 0, started: false }));
  const intervals: Interval[] = [];
  const picks: Trace['picks'] = [];
  const close = (pcpu: number) => {
    const run = running[pcpu];
    if (run === null) return;
    if (now > run.since) intervals.push({ key: run.state.load.entity.key, pcpu, start: run.since, end: now });
    run.since = now;
  };
  let sameInstant = 0;
  for (let guard = 0; guard < 1_000_000; guard++) {
    // Starts and wake-ups due now.
    for (const state of states) {
      if (state.wakeAt <= now) {
        const first = !state.started;
        state.started = true;
        state.wakeAt = Number.POSITIVE_INFINITY;
        state.left = state.load.busyNs ?? Number.POSITIVE_INFINITY;
        policy.enqueue(state.load.entity, now, first ? 'start' : 'wake');
      }
    }
    // Bursts that end now: the vCPU blocks.
    for (let pcpu = 0; pcpu < pcpus; pcpu++) {
      const run = running[pcpu];
      if (run === null || run.state.left > 0) continue;
      close(pcpu);
      policy.charge(run.state.load.entity, 0, now);
      policy.leave?.(pcpu, run.state.load.entity, now);
      running[pcpu] = null;
      run.state.wakeAt = now + (run.state.load.sleepNs ?? 0);
    }
    if (tickAt <= now) {
      // The monitor's batches end at the tick too: what ran until now is charged first.
      for (let pcpu = 0; pcpu < pcpus; pcpu++) {
        const run = running[pcpu];
        if (run === null) continue;
        close(pcpu);
        policy.charge(run.state.load.entity, 0, now);
      }
      tickAt = Number.POSITIVE_INFINITY;
      policy.tick?.(now);
    }
    // Slice ends and preemption requests, until none is left at this instant.
    for (let settle = 0; settle < 100; settle++) {
      let changed = false;
      for (let pcpu = 0; pcpu < pcpus; pcpu++) {
        const run = running[pcpu];
        if (run === null) {
          preempts.delete(pcpu);
          continue;
        }
        if (run.sliceEnd > now && !preempts.has(pcpu)) continue;
        preempts.delete(pcpu);
        changed = true;
        close(pcpu);
        const entity = run.state.load.entity;
        policy.charge(entity, 0, now);
        if (policy.shouldPreempt(pcpu, entity, now)) {
          policy.leave?.(pcpu, entity, now);
          running[pcpu] = null;
          policy.enqueue(entity, now, 'preempt');
        } else {
          run.sliceEnd = now + policy.extend(pcpu, entity, now);
        }
      }
      for (let pcpu = 0; pcpu < pcpus; pcpu++) {
        if (running[pcpu] !== null) continue;
        const pick = policy.pick(pcpu, now);
        if (pick === undefined) continue;
        changed = true;
        const state = states.find((candidate) => candidate.load.entity.key === pick.entity.key) as LoadState;
        if (!(pick.sliceNs > 0)) throw new Error(`slice ${pick.sliceNs} at ${now}`);
        picks.push({ t: now, pcpu, key: pick.entity.key, sliceNs: pick.sliceNs });
        running[pcpu] = { state, since: now, sliceEnd: now + pick.sliceNs };
      }
      if (!changed && preempts.size === 0) break;
    }
    observe?.(now, running.flatMap((run) => (run === null ? [] : [run.state.load.entity.key])));
    if (now >= endNs) break;
    let next = Math.min(endNs, tickAt);
    for (const state of states) next = Math.min(next, state.wakeAt);
    for (const run of running) if (run !== null) next = Math.min(next, run.sliceEnd, now + run.state.left);
    if (next <= now) {
      // A tick asked for at this very instant: another round at the same time.
      if (tickAt <= now && ++sameInstant < 100) continue;
      throw new Error(`no progress at ${now}`);
    }
    sameInstant = 0;
    for (const run of running) if (run !== null) run.state.left -= next - now;
    now = next;
  }
  for (let pcpu = 0; pcpu < pcpus; pcpu++) close(pcpu);
  return { intervals, picks };
}

/** CPU time of `key` in [from, to). */
export function ranIn(trace: Trace, key: number, from: number, to: number): number {
  let total = 0;
  for (const interval of trace.intervals) if (interval.key === key) total += Math.max(0, Math.min(to, interval.end) - Math.max(from, interval.start));
  return total;
}

export const entity = (key: number, vm: string, params: Record<string, number> = {}): SchedEntity => ({ key, id: `vm/${vm}/vcpu/${key}`, vm, params: { weight: 256, cap: 0, ...params } });
