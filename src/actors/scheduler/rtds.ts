/**
 * RTDS, Xen's real-time deferrable server scheduler (xen/common/sched/rt.c; Xi, Xu, Lu, Lee,
 * Gill et al., "RT-Xen: Towards Real-time Hypervisor Scheduling in Xen", EMSOFT 2011, and
 * "Real-Time Multi-Core Virtual Machine Scheduling in Xen", EMSOFT 2014).
 *
 * - Every vCPU is a server with a budget and a period (per VM: `sched.budget`, `sched.period`;
 *   Xen's defaults 4 ms and 10 ms). At each period boundary its budget is refilled and its
 *   deadline moves to the end of the new period.
 * - Global EDF: all physical CPUs take from one queue ordered by deadline; a vCPU runs until
 *   its budget is spent (the slice is the budget left), then waits in the depleted queue for its
 *   replenishment.
 * - A vCPU that becomes runnable with an earlier deadline than a running one preempts the
 *   running vCPU with the latest deadline; replenishments do the same.
 * - extratime: a depleted vCPU with extratime may run, after every vCPU with budget, on time
 *   nobody else needs (in deadline order, one quantum at a time).
 */
import { EntityHeap } from './heap.js';
import type { EnqueueReason, Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

export const RTDS_DEFAULTS = { budgetNs: 4_000_000, periodNs: 10_000_000 } as const;

interface RtVcpu {
  readonly entity: SchedEntity;
  readonly budgetNs: number;
  readonly periodNs: number;
  readonly extratime: boolean;
  deadline: number;
  budgetLeft: number;
  /**
   * Xen's last_start: time before it is not charged to the current budget. Set when the vCPU is
   * picked and when its budget is replenished (rt_update_deadline), so a batch that ends at a
   * replenishment is charged to the period it ran in, not to the fresh budget.
   */
  lastStart: number;
  runningOn: number;
  /** In the run queue, the extra-time queue, or the depleted set (runnable but waiting). */
  queued: 'run' | 'extra' | 'depleted' | null;
}

export class RtdsPolicy implements SchedulingPolicy {
  readonly name: string = 'rtds';
  private readonly runq = new EntityHeap();
  private readonly extraq = new EntityHeap();
  private depleted = 0;
  /** Every known vCPU by its next replenishment (its current deadline). */
  private readonly replenish = new EntityHeap();
  private readonly vcpus = new Map<number, RtVcpu>();
  private readonly running: (RtVcpu | null)[] = [];
  private host: PolicyHost | undefined;

  constructor(private readonly options: PolicyOptions) {
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) this.running.push(null);
  }

  get waiting(): number {
    return this.runq.size + this.extraq.size;
  }

  attach(host: PolicyHost): void {
    this.host = host;
  }

  private state(entity: SchedEntity, now: number): RtVcpu {
    let vcpu = this.vcpus.get(entity.key);
    if (vcpu === undefined) {
      const budgetNs = entity.params.budgetNs ?? RTDS_DEFAULTS.budgetNs;
      const periodNs = entity.params.periodNs ?? Math.max(RTDS_DEFAULTS.periodNs, budgetNs);
      vcpu = { entity, budgetNs, periodNs, extratime: entity.params.extratime === 1, deadline: now + periodNs, budgetLeft: budgetNs, lastStart: now, runningOn: -1, queued: null };
      this.vcpus.set(entity.key, vcpu);
      this.replenish.set(entity, vcpu.deadline);
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
    let entity = this.runq.peek();
    let extra = false;
    if (entity === undefined) {
      entity = this.extraq.peek();
      extra = true;
    }
    if (entity === undefined) return undefined;
    const vcpu = this.state(entity, now);
    this.unqueue(vcpu);
    vcpu.runningOn = pcpu;
    vcpu.lastStart = now;
    this.running[pcpu] = vcpu;
    return { entity, sliceNs: extra ? this.options.quantumNs : Math.max(1, vcpu.budgetLeft) };
  }

  shouldPreempt(_pcpu: number, current: SchedEntity, now: number): boolean {
    const vcpu = this.state(current, now);
    if (vcpu.budgetLeft > 0) {
      const head = this.runq.peek();
      return head !== undefined && this.runq.peekRank() < vcpu.deadline;
    }
    // Depleted: only extra time is left for it, behind everyone with budget.
    if (!vcpu.extratime) return true;
    return this.runq.size > 0 || this.extraq.size > 0;
  }

  extend(_pcpu: number, current: SchedEntity, now: number): number {
    const vcpu = this.state(current, now);
    return vcpu.budgetLeft > 0 ? vcpu.budgetLeft : this.options.quantumNs;
  }

  charge(entity: SchedEntity, ranNs: number, now: number): void {
    const vcpu = this.state(entity, now);
    // burn_budget burns now - last_start: the part of this stretch that ran before the last
    // replenishment belonged to the previous period, whose budget is gone.
    const burnNs = Math.min(ranNs, now - vcpu.lastStart);
    if (burnNs > 0) vcpu.budgetLeft = Math.max(0, vcpu.budgetLeft - burnNs);
  }

  leave(pcpu: number): void {
    const vcpu = this.running[pcpu];
    if (vcpu !== null) vcpu.runningOn = -1;
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
      this.catchUp(vcpu, now);
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

  snapshot(): unknown {
    return {
      policy: this.name,
      runQueue: this.runq.sorted().map((item) => ({ id: item.entity.id, deadline: item.rank })),
      vcpus: [...this.vcpus.values()]
        .sort((a, b) => a.entity.key - b.entity.key)
        .map((vcpu) => ({ id: vcpu.entity.id, deadline: vcpu.deadline, budgetLeft: vcpu.budgetLeft })),
    };
  }

  /** rt_update_deadline: move to the period that contains now, with a full budget. */
  private catchUp(vcpu: RtVcpu, now: number): void {
    if (now < vcpu.deadline) return;
    const periods = Math.floor((now - vcpu.deadline) / vcpu.periodNs) + 1;
    vcpu.deadline += periods * vcpu.periodNs;
    vcpu.budgetLeft = vcpu.budgetNs;
    vcpu.lastStart = now;
    this.replenish.set(vcpu.entity, vcpu.deadline);
  }

  private insert(vcpu: RtVcpu): void {
    if (vcpu.budgetLeft > 0) {
      this.runq.set(vcpu.entity, vcpu.deadline);
      vcpu.queued = 'run';
    } else if (vcpu.extratime) {
      this.extraq.set(vcpu.entity, vcpu.deadline);
      vcpu.queued = 'extra';
    } else {
      this.depleted++;
      vcpu.queued = 'depleted';
    }
  }

  private unqueue(vcpu: RtVcpu): void {
    if (vcpu.queued === 'run') this.runq.remove(vcpu.entity.key);
    else if (vcpu.queued === 'extra') this.extraq.remove(vcpu.entity.key);
    else if (vcpu.queued === 'depleted') this.depleted--;
    vcpu.queued = null;
  }

  /** runq_tickle: an idle CPU takes it; else preempt the latest deadline running, if later than its own. */
  private preemptFor(vcpu: RtVcpu): void {
    const host = this.host;
    if (host === undefined || vcpu.queued === null || vcpu.queued === 'depleted') return;
    let target = -1;
    let latest = vcpu.queued === 'run' ? vcpu.deadline : Number.POSITIVE_INFINITY;
    for (let pcpu = 0; pcpu < this.running.length; pcpu++) {
      const running = this.running[pcpu];
      if (running === null) {
        host.wakeIdle(pcpu);
        return;
      }
      // A vCPU on extra time ranks after every vCPU with budget.
      const rank = running.budgetLeft > 0 ? running.deadline : Number.POSITIVE_INFINITY;
      if (rank > latest || (rank === Number.POSITIVE_INFINITY && vcpu.queued === 'run' && target < 0)) {
        latest = rank;
        target = pcpu;
      }
    }
    if (target >= 0) host.preempt(target);
  }
}
