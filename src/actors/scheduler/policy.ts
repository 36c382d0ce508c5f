/**
 * The interface every vCPU scheduling policy implements. A policy is pure bookkeeping: it never
 * touches vCPU state, the clock or the queue. The monitor tells it what happened (a vCPU became
 * runnable, left, ran for so long) and asks it what to run next and whether to preempt.
 * Policies must be deterministic: no real time, no Math.random, ties broken by `key`.
 */

/** What a policy sees of a vCPU. */
export interface SchedEntity {
  /** Stable order across runs: the vCPU's index in the whole system. */
  readonly key: number;
  /** e.g. `vm/alpha/vcpu/0`. */
  readonly id: string;
  readonly vm: string;
  /** Scheduling parameters from the scenario (weight, cap, ...). */
  readonly params: Readonly<Record<string, number>>;
}

export interface Pick {
  readonly entity: SchedEntity;
  /** How long it may run before the monitor asks again (ns, > 0). */
  readonly sliceNs: number;
}

export interface SchedulingPolicy {
  readonly name: string;
  /** The entity became runnable (started, woke up, was preempted, was resumed). */
  enqueue(entity: SchedEntity, now: number): void;
  /** The entity left the runnable set without being picked (paused, halted, crashed). */
  remove(entity: SchedEntity): void;
  /** The next entity for a physical CPU, removed from the runnable set; undefined to idle. */
  pick(pcpu: number, now: number): Pick | undefined;
  /** At the end of `current`'s slice on `pcpu`: should it give the CPU up? */
  shouldPreempt(pcpu: number, current: SchedEntity, now: number): boolean;
  /** A new slice length when `current` keeps the CPU at the end of its slice. */
  extend(pcpu: number, current: SchedEntity, now: number): number;
  /** Accounting: `entity` ran `ranNs` on `pcpu`, ending at `now`. */
  charge(entity: SchedEntity, ranNs: number, now: number): void;
  /** Number of runnable entities waiting. */
  readonly waiting: number;
  /** The policy's state for checkpoints (plain data). */
  snapshot(): unknown;
}

export interface PolicyOptions {
  readonly pcpus: number;
  readonly quantumNs: number;
}
