/**
 * RTDS, Xen's real-time deferrable server scheduler (xen/common/sched/rt.c; Xi, Xu, Lu, Lee,
 * Gill et al., "RT-Xen: Towards Real-time Hypervisor Scheduling in Xen", EMSOFT 2011, and
 * "Real-Time Multi-Core Virtual Machine Scheduling in Xen", EMSOFT 2014).
 *
 * - Every vCPU is a server with a budget and a period (per VM: `sched.budget`, `sched.period`;
 *   Xen's defaults 4 ms and 10 ms). Its periods are aligned to multiples of the period from time
 *   0 (rt_update_deadline, from a deadline of 0): at each boundary its budget is refilled, its
 *   priority level reset to 0 and its deadline moved to the end of the new period.
 * - Global EDF: all physical CPUs take from one queue ordered by deadline; a vCPU runs until
 *   its budget is spent (the slice is the budget left), then waits in the depleted queue for its
 *   replenishment.
 * - A vCPU that becomes runnable with an earlier deadline than a running one preempts the
 *   running vCPU with the latest deadline; replenishments do the same.
 * - extratime (burn_budget): a vCPU with extratime that spends its budget gets a full budget
 *   again at the next priority level; the run queue is ordered by level, then deadline
 *   (compare_unit_priority), so extra time goes round the extratime vCPUs a budget at a time.
 * - Budget burnt: `scheduler.charge` (charging.ts), from Xen's last_start.
 */
import type { ChargeMode } from '../../core/scenario/schema.js';
import { chargeable, settle, type Meter } from './charging.js';
import { EntityHeap } from './heap.js';
import type { EnqueueReason, Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

export const RTDS_DEFAULTS = { budgetNs: 4_000_000, periodNs: 10_000_000 } as const;

/**
 * `startTime` is Xen's last_start: time before it is not charged to the current budget. Set when
 * the vCPU is picked and when its budget is replenished (rt_update_deadline), so a batch that
 * ends at a replenishment is charged to the period it ran in, not to the fresh budget.
 */
interface RtVcpu extends Meter {
  readonly entity: SchedEntity;
  readonly budgetNs: number;
  readonly periodNs: number;
  readonly extratime: boolean;
  /** Xen's priority_level: 0 with the period's own budget, +1 for each extra budget. */
  level: number;
  deadline: number;
  budgetLeft: number;
  runningOn: number;
  /** In the run queue, or the depleted set (runnable but waiting). */
  queued: 'run' | 'depleted' | null;
  /** Periods that ended while the vCPU wanted its budget and had not had it all (see catchUp). */
  misses: number;
}

export class RtdsPolicy implements SchedulingPolicy {
  readonly name: string = 'rtds';
  /** By priority level, then deadline. */
  private readonly runq = new EntityHeap();
  private depleted = 0;
  /** Every known vCPU by its next replenishment (its current deadline). */
  private readonly replenish = new EntityHeap();
  private readonly vcpus = new Map<number, RtVcpu>();
  private readonly running: (RtVcpu | null)[] = [];
  private host: PolicyHost | undefined;

  private readonly chargeMode: ChargeMode;

  constructor(options: PolicyOptions) {
    this.chargeMode = options.scheduler?.charge ?? 'held';
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) this.running.push(null);
  }

  get waiting(): number {
    return this.runq.size;
  }

  attach(host: PolicyHost): void {
    this.host = host;
  }

  private state(entity: SchedEntity, now: number): RtVcpu {
    let vcpu = this.vcpus.get(entity.key);
    if (vcpu === undefined) {
      const budgetNs = entity.params.budgetNs ?? RTDS_DEFAULTS.budgetNs;
      const periodNs = entity.params.periodNs ?? Math.max(RTDS_DEFAULTS.periodNs, budgetNs);
      // Xen's cur_deadline starts at 0: the first rt_update_deadline aligns it to the period.
      vcpu = { entity, budgetNs, periodNs, extratime: entity.params.extratime === 1, level: 0, deadline: 0, budgetLeft: budgetNs, startTime: now, runningOn: -1, queued: null, misses: 0 };
      this.vcpus.set(entity.key, vcpu);
      this.catchUp(vcpu, now);
      this.host?.requestTick(vcpu.deadline);
    }
    return vcpu;
  }

  enqueue(entity: SchedEntity, now: number, reason: EnqueueReason = 'wake'): void {
    const vcpu = this.state(entity, now);
    if (vcpu.queued !== null) return;
    this.catchUp(vcpu, now);
    this.insert(vcpu);
    if (reason !== 'preempt') this.preemptFor(vcpu);
  }

  remove(entity: SchedEntity): void {
    const vcpu = this.vcpus.get(entity.key);
    if (vcpu !== undefined) this.unqueue(vcpu);
  }

  pick(pcpu: number, now: number): Pick | undefined {
    const entity = this.runq.peek();
    if (entity === undefined) return undefined;
    const vcpu = this.state(entity, now);
    this.unqueue(vcpu);
    vcpu.runningOn = pcpu;
    vcpu.startTime = now;
    this.running[pcpu] = vcpu;
    return { entity, sliceNs: Math.max(1, vcpu.budgetLeft) };
  }

  /** rt_schedule: the runner keeps the CPU if it has budget and nobody queued ranks before it. */
  shouldPreempt(_pcpu: number, current: SchedEntity, now: number): boolean {
    const vcpu = this.state(current, now);
    if (vcpu.budgetLeft <= 0) return true;
    return this.runq.size > 0 && this.before(this.runq.peekRank(), this.runq.peekThen(), vcpu);
  }

  extend(_pcpu: number, current: SchedEntity, now: number): number {
    return Math.max(1, this.state(current, now).budgetLeft);
  }

  charge(entity: SchedEntity, ranNs: number, now: number): void {
    const vcpu = this.state(entity, now);
    // burn_budget burns now - last_start: the part of this stretch that ran before the last
    // replenishment belonged to the previous period, whose budget is gone.
    this.burn(vcpu, vcpu.runningOn >= 0 ? chargeable(this.chargeMode, vcpu, ranNs, now) : 0);
  }

  leave(pcpu: number, _entity: SchedEntity, now: number): void {
    const vcpu = this.running[pcpu];
    if (vcpu !== null) {
      if (this.chargeMode === 'held') this.burn(vcpu, settle(vcpu, now));
      vcpu.runningOn = -1;
    }
    this.running[pcpu] = null;
  }

  /** The replenishment timer: refill every vCPU whose period ended. */
  tick(now: number): void {
    const host = this.host as PolicyHost;
    const refilled: RtVcpu[] = [];
    while (this.replenish.size > 0 && this.replenish.peekRank() <= now) {
      const vcpu = this.state(this.replenish.peek() as SchedEntity, now);
      const queued = vcpu.queued;
      if (queued !== null) this.unqueue(vcpu);
      this.catchUp(vcpu, now, queued);
      if (queued !== null) {
        this.insert(vcpu);
        refilled.push(vcpu);
      } else if (vcpu.runningOn >= 0) {
        refilled.push(vcpu);
      }
    }
    for (const vcpu of refilled) {
      if (vcpu.runningOn >= 0) host.preempt(vcpu.runningOn); // Its deadline moved: let EDF decide again.
      else this.preemptFor(vcpu);
    }
    if (this.replenish.size > 0) host.requestTick(this.replenish.peekRank());
  }

  /** Periods of `entity` that ended before it had its budget while it wanted it (see catchUp). */
  deadlineMisses(entity: SchedEntity): number {
    return this.vcpus.get(entity.key)?.misses ?? 0;
  }

  snapshot(): unknown {
    return {
      policy: this.name,
      runQueue: this.runq.sorted().map((item) => item.entity.id),
      vcpus: [...this.vcpus.values()]
        .sort((a, b) => a.entity.key - b.entity.key)
        .map((vcpu) => ({ id: vcpu.entity.id, level: vcpu.level, deadline: vcpu.deadline, budgetLeft: vcpu.budgetLeft })),
    };
  }

  /**
   * burn_budget: a vCPU that spends its budget is depleted, unless it has extratime: then it
   * gets a full budget again, one priority level lower.
   */
  private burn(vcpu: RtVcpu, ns: number): void {
    if (ns <= 0) return;
    vcpu.budgetLeft -= ns;
    if (vcpu.budgetLeft > 0) return;
    if (vcpu.extratime) {
      vcpu.level++;
      vcpu.budgetLeft = vcpu.budgetNs;
    } else {
      vcpu.budgetLeft = 0;
    }
  }

  /** compare_unit_priority: does (level, deadline) rank before the vCPU's own? */
  private before(level: number, deadline: number, vcpu: RtVcpu): boolean {
    return level < vcpu.level || (level === vcpu.level && deadline < vcpu.deadline);
  }

  /**
   * rt_update_deadline: move to the period that contains now, with a full budget, at level 0.
   *
   * A missed deadline is counted first (Xen's RTDS counts none; the RT-Xen papers measure it
   * this way): the period ends while the vCPU wants to run (queued with budget, or running with
   * budget it has not yet burned) at its own level. A vCPU that spent its budget, or was blocked,
   * missed nothing; one blocked across several periods counts none of them.
   */
  private catchUp(vcpu: RtVcpu, now: number, queued: RtVcpu['queued'] = vcpu.queued): void {
    if (now < vcpu.deadline) return;
    if (vcpu.deadline > 0 && vcpu.level === 0) {
      const unburned = vcpu.runningOn >= 0 ? vcpu.budgetLeft - (now - vcpu.startTime) : queued === 'run' ? vcpu.budgetLeft : 0;
      if (unburned > 0) vcpu.misses++;
    }
    const periods = Math.floor((now - vcpu.deadline) / vcpu.periodNs) + 1;
    vcpu.deadline += periods * vcpu.periodNs;
    vcpu.budgetLeft = vcpu.budgetNs;
    vcpu.level = 0;
    vcpu.startTime = now;
    this.replenish.set(vcpu.entity, vcpu.deadline);
  }

  private insert(vcpu: RtVcpu): void {
    if (vcpu.budgetLeft > 0) {
      this.runq.set(vcpu.entity, vcpu.level, vcpu.deadline);
      vcpu.queued = 'run';
    } else {
      this.depleted++;
      vcpu.queued = 'depleted';
    }
  }

  private unqueue(vcpu: RtVcpu): void {
    if (vcpu.queued === 'run') this.runq.remove(vcpu.entity.key);
    else if (vcpu.queued === 'depleted') this.depleted--;
    vcpu.queued = null;
  }

  /** runq_tickle: an idle CPU takes it; else preempt the lowest-priority runner, if below it. */
  private preemptFor(vcpu: RtVcpu): void {
    const host = this.host;
    if (host === undefined || vcpu.queued !== 'run') return;
    let target: RtVcpu | null = null;
    for (let pcpu = 0; pcpu < this.running.length; pcpu++) {
      const running = this.running[pcpu];
      if (running === null) {
        host.wakeIdle(pcpu);
        return;
      }
      if (target === null || this.before(target.level, target.deadline, running)) target = running;
    }
    // target is now the runner that ranks last; preempt it if the new vCPU ranks before it.
    if (target !== null && this.before(vcpu.level, vcpu.deadline, target)) host.preempt(target.runningOn);
  }
}
