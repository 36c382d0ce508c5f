/**
 * The interface every vCPU scheduling policy implements. A policy is pure bookkeeping: it never
 * touches vCPU state, the clock or the queue. The monitor tells it what happened (a vCPU became
 * runnable, left, ran for so long) and asks it what to run next and whether to preempt. A policy
 * that needs to act on its own (a periodic accounting tick, a preemption on wake-up, a budget
 * replenishment, a frame boundary) does it through the PolicyHost the monitor hands it in
 * `attach`: it asks for a tick at a virtual time, for a physical CPU to be preempted now, or for
 * an idle physical CPU to pick again.
 * Policies must be deterministic: no real time, no Math.random, ties broken by `key`.
 * docs/scheduling.md documents each policy and how to write a new one.
 */
import type { AffinitySpec, SchedulerSpec, TopologySpec } from '../../core/scenario/schema.js';

/** What a policy sees of a vCPU. */
export interface SchedEntity {
  /** Stable order across runs: the vCPU's index in the whole system. */
  readonly key: number;
  /** e.g. `vm/alpha/vcpu/0`. */
  readonly id: string;
  readonly vm: string;
  /** The vCPU's index in its VM. */
  readonly index?: number;
  /**
   * Scheduling parameters from the scenario: weight, cap (percent of one physical CPU, 0 = none),
   * and for RTDS budgetNs, periodNs, extratime (1 or 0); for null, pcpu (-1 = any).
   */
  readonly params: Readonly<Record<string, number>>;
  /** Hard and soft affinity (sorted pCPU masks); absent: anywhere, no preference. */
  readonly affinity?: AffinitySpec;
}

export interface Pick {
  readonly entity: SchedEntity;
  /** How long it may run before the monitor asks again (ns, > 0). */
  readonly sliceNs: number;
}

/** Why an entity became runnable (the `reason` of `vcpu.runnable`, plus `yield`). */
export type EnqueueReason = 'start' | 'wake' | 'preempt' | 'resume' | 'yield';

/** What the monitor offers a policy (see `SchedulingPolicy.attach`). */
export interface PolicyHost {
  /** The current virtual time (ns). */
  readonly now: number;
  /**
   * Ends the slice of whatever runs on `pcpu` at the current virtual time exactly; the monitor
   * then asks `shouldPreempt` as at any slice end. No effect on an idle physical CPU.
   */
  preempt(pcpu: number): void;
  /** Asks an idle physical CPU to call `pick` again (no effect if it is busy or about to pick). */
  wakeIdle(pcpu: number): void;
  /**
   * Asks for one call of `tick` at virtual time `time` (>= now). Only the earliest request is
   * kept: a later request than the pending one is ignored, an earlier one replaces it. After
   * a tick the policy requests the next one itself.
   */
  requestTick(time: number): void;
}

/**
 * A policy broke its contract with the monitor (it picked a vCPU that cannot run, or one that does
 * not exist): a policy module's bug, reported as bad input (exit 2), never a crash.
 */
export class PolicyContractError extends Error {
  override readonly name = 'PolicyContractError';
}

export interface SchedulingPolicy {
  readonly name: string;
  /** Called once, before anything else, with the monitor's services. */
  attach?(host: PolicyHost): void;
  /** The entity became runnable (started, woke up, was preempted, was resumed, yielded). */
  enqueue(entity: SchedEntity, now: number, reason?: EnqueueReason): void;
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
  /**
   * `entity` stopped running on `pcpu` at `now` (it was preempted, blocked, yielded, halted,
   * paused or crashed). Called before `enqueue` when it goes back to the run queue.
   */
  leave?(pcpu: number, entity: SchedEntity, now: number): void;
  /**
   * `entity` left this policy for good (its VM moved to another cpupool; Xen's sched_free_udata
   * in sched_move_domain): drop what is kept of it. Called when it is neither queued nor running.
   */
  forget?(entity: SchedEntity): void;
  /** The tick the policy asked for with `host.requestTick` is due. */
  tick?(now: number): void;
  /** Number of runnable entities waiting. */
  readonly waiting: number;
  /** Real-time policies (RTDS): the periods of `entity` that ended before it had its budget. */
  deadlineMisses?(entity: SchedEntity): number;
  /** The policy's state for checkpoints (plain data). */
  snapshot(): unknown;
  /**
   * cpupools (cpupool.ts): which pool owns each physical CPU and how many entities wait in each,
   * so that the monitor wakes idle CPUs of the pools that have work. Absent: any CPU takes any.
   */
  readonly pools?: {
    poolOf(pcpu: number): number;
    waitingIn(pool: number): number;
  };
}

export interface PolicyOptions {
  readonly pcpus: number;
  readonly quantumNs: number;
  /** The whole scheduler section of the scenario (policy parameters; absent ones take defaults). */
  readonly scheduler?: SchedulerSpec;
  /** The VMs, in scenario order, with their vCPU counts (for policies that plan per VM). */
  readonly vms?: readonly { readonly name: string; readonly vcpus: number }[];
  /** The host's sockets, cores and threads (`host.topology`); absent: one socket of single-thread cores. */
  readonly topology?: TopologySpec;
}

/** A policy factory, as the registry and `--policy ./file.js` modules provide. */
export type PolicyFactory = (options: PolicyOptions) => SchedulingPolicy;
