/**
 * Xen's credit scheduler (xen/common/sched/credit.c), the default of Xen up to 4.11.
 *
 * - Each VM has a weight (1..65535, default 256) and a cap (percent of one physical CPU, 0 = none).
 * - Every vCPU holds credit (here in ns of CPU time). Running burns it, ns for ns (Xen's
 *   burn_credits). Every `tick` (10 ms) the running vCPUs lose BOOST; every 3 ticks (one
 *   accounting period of 30 ms, Xen's csched_acct) the period's CPU time, period × pCPUs, is
 *   shared among the active VMs in proportion to weight (capped by cap), and each VM's share is
 *   split among its active vCPUs. A vCPU whose credit exceeds one period's worth stops earning
 *   (it is marked inactive and its credit halved); credit is bounded below by minus one period.
 * - Priority: BOOST > UNDER (credit >= 0) > OVER (credit < 0); a physical CPU with nothing to
 *   run is IDLE. A vCPU that wakes from blocking while UNDER is BOOSTed and preempts a running
 *   vCPU of lower priority (Xen's __runq_tickle), but not before that one has run `ratelimit`
 *   (1 ms, Xen's sched_ratelimit_us).
 * - Run queues are per physical CPU, ordered by priority, FIFO within a priority; a vCPU goes
 *   back to the queue of the CPU it last ran on. A CPU whose best local vCPU is OVER (or that has
 *   none) steals a better one from the other CPUs' queues (csched_load_balance).
 * - A slice lasts `timeslice` (30 ms, Xen's tslice_ms); at its end the vCPU keeps the CPU only if
 *   nobody of its priority or better waits.
 * - Cap: a capped VM's vCPUs are parked when their credit is used up and unparked by the
 *   accounting that gives them credit again. Deviation from Xen, which parks only below
 *   -cap's worth of credit: we park at 0 and cut a capped vCPU's slice at its remaining credit,
 *   so a cap holds within each accounting period instead of on average (docs/scheduling.md).
 */
import type { SchedulerSpec } from '../../core/scenario/schema.js';
import { EntityFifo } from './fifo.js';
import type { EnqueueReason, Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

export const enum Priority {
  BOOST = 0,
  UNDER = 1,
  OVER = 2,
}
const PRIORITY_NAMES = ['BOOST', 'UNDER', 'OVER'];
const PRIORITIES = 3;
/** Ticks per accounting period (Xen: CSCHED_TICKS_PER_ACCT). */
const TICKS_PER_ACCOUNTING = 3;

export const CREDIT_DEFAULTS = { timesliceNs: 30_000_000, ratelimitNs: 1_000_000, tickNs: 10_000_000 } as const;

export interface CreditTuning {
  /** Whether waking vCPUs are BOOSTed (true in Xen; off to measure what BOOST buys). */
  readonly boost?: boolean;
}

interface CreditVcpu {
  readonly entity: SchedEntity;
  readonly weight: number;
  readonly capPercent: number;
  credit: number;
  priority: Priority;
  active: boolean;
  parked: boolean;
  /** The physical CPU whose run queue it joins (the one it last ran on). */
  home: number;
  /** The physical CPU whose queue holds it, or -1. */
  queuedOn: number;
  /** Runnable and not running (queued, or parked until the accounting). */
  runnable: boolean;
  /** The physical CPU it runs on, or -1. */
  runningOn: number;
}

interface Running {
  vcpu: CreditVcpu;
  since: number;
}

export class CreditPolicy implements SchedulingPolicy {
  readonly name: string = 'credit';
  private readonly timesliceNs: number;
  private readonly ratelimitNs: number;
  private readonly tickNs: number;
  private readonly boost: boolean;
  private readonly vcpus = new Map<number, CreditVcpu>();
  /** runqs[pcpu][priority]. */
  private readonly runqs: EntityFifo[][] = [];
  private readonly waitingByPriority = [0, 0, 0];
  private readonly running: (Running | null)[] = [];
  /** A wake-up preemption waiting for the ratelimit to pass, per physical CPU (time or Infinity). */
  private readonly preemptAt: number[] = [];
  private host: PolicyHost | undefined;
  private nextTickNs: number;
  private ticks = 0;

  constructor(
    private readonly options: PolicyOptions,
    tuning: CreditTuning = {},
  ) {
    const scheduler: Partial<SchedulerSpec> = options.scheduler ?? {};
    this.timesliceNs = scheduler.timesliceNs ?? CREDIT_DEFAULTS.timesliceNs;
    this.ratelimitNs = scheduler.ratelimitNs ?? CREDIT_DEFAULTS.ratelimitNs;
    this.tickNs = scheduler.tickNs ?? CREDIT_DEFAULTS.tickNs;
    this.boost = tuning.boost ?? true;
    if (!(this.timesliceNs > 0 && this.tickNs > 0 && this.ratelimitNs >= 0)) throw new RangeError('credit needs a positive timeslice and tick');
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) {
      this.runqs.push(Array.from({ length: PRIORITIES }, () => new EntityFifo()));
      this.running.push(null);
      this.preemptAt.push(Number.POSITIVE_INFINITY);
    }
    this.nextTickNs = this.tickNs;
  }

  get waiting(): number {
    return this.waitingByPriority[0] + this.waitingByPriority[1] + this.waitingByPriority[2];
  }

  /** The accounting period (Xen: tick × CSCHED_TICKS_PER_ACCT = 30 ms). */
  get periodNs(): number {
    return this.tickNs * TICKS_PER_ACCOUNTING;
  }

  attach(host: PolicyHost): void {
    this.host = host;
    host.requestTick(this.nextTickNs);
  }

  private state(entity: SchedEntity): CreditVcpu {
    let vcpu = this.vcpus.get(entity.key);
    if (vcpu === undefined) {
      vcpu = {
        entity,
        weight: entity.params.weight ?? 256,
        capPercent: entity.params.cap ?? 0,
        credit: 0,
        priority: Priority.UNDER,
        active: false,
        parked: false,
        home: entity.key % this.options.pcpus,
        queuedOn: -1,
        runnable: false,
        runningOn: -1,
      };
      this.vcpus.set(entity.key, vcpu);
    }
    return vcpu;
  }

  enqueue(entity: SchedEntity, now: number, reason: EnqueueReason = 'wake'): void {
    const vcpu = this.state(entity);
    if (vcpu.queuedOn >= 0) return;
    vcpu.runnable = true;
    if (reason === 'wake' && this.boost && vcpu.priority === Priority.UNDER && !vcpu.parked) vcpu.priority = Priority.BOOST;
    this.insert(vcpu);
    if (vcpu.queuedOn >= 0 && (reason === 'wake' || reason === 'start' || reason === 'resume')) this.tickle(vcpu, now);
  }

  remove(entity: SchedEntity): void {
    const vcpu = this.vcpus.get(entity.key);
    if (vcpu === undefined) return;
    this.unqueue(vcpu);
    vcpu.runnable = false;
  }

  pick(pcpu: number, now: number): Pick | undefined {
    const vcpu = this.best(pcpu);
    if (vcpu === undefined) return undefined;
    this.unqueue(vcpu);
    vcpu.runnable = false;
    vcpu.runningOn = pcpu;
    vcpu.home = pcpu;
    this.running[pcpu] = { vcpu, since: now };
    this.preemptAt[pcpu] = Number.POSITIVE_INFINITY;
    return { entity: vcpu.entity, sliceNs: this.sliceFor(vcpu) };
  }

  shouldPreempt(_pcpu: number, current: SchedEntity): boolean {
    const vcpu = this.state(current);
    if (vcpu.parked) return true;
    for (let priority = 0; priority <= vcpu.priority; priority++) if (this.waitingByPriority[priority] > 0) return true;
    return false;
  }

  extend(pcpu: number, current: SchedEntity, now: number): number {
    const running = this.running[pcpu];
    if (running !== null) running.since = now;
    return this.sliceFor(this.state(current));
  }

  charge(entity: SchedEntity, ranNs: number): void {
    const vcpu = this.state(entity);
    vcpu.credit -= ranNs;
    if (vcpu.capPercent > 0 && vcpu.credit <= 0) {
      // Parked vCPUs stay on the active list, so the accounting gives them credit again.
      vcpu.parked = true;
      vcpu.active = true;
    }
  }

  leave(pcpu: number): void {
    const running = this.running[pcpu];
    if (running !== null) running.vcpu.runningOn = -1;
    this.running[pcpu] = null;
    this.preemptAt[pcpu] = Number.POSITIVE_INFINITY;
  }

  tick(now: number): void {
    const host = this.host as PolicyHost;
    if (now >= this.nextTickNs) {
      this.ticks++;
      this.nextTickNs += this.tickNs;
      // csched_tick: a vCPU that is still running at a tick has had its boost.
      // csched_vcpu_acct: a vCPU found running at a tick has had its boost, and starts earning
      // credit if it was not (a vCPU that runs only briefly between ticks is rarely seen here).
      for (const running of this.running) {
        if (running === null) continue;
        if (running.vcpu.priority === Priority.BOOST) running.vcpu.priority = Priority.UNDER;
        running.vcpu.active = true;
      }
      if (this.ticks % TICKS_PER_ACCOUNTING === 0) this.account(now);
    }
    for (let pcpu = 0; pcpu < this.preemptAt.length; pcpu++) {
      if (this.preemptAt[pcpu] <= now) {
        this.preemptAt[pcpu] = Number.POSITIVE_INFINITY;
        host.preempt(pcpu);
      }
    }
    host.requestTick(Math.min(this.nextTickNs, ...this.preemptAt));
  }

  snapshot(): unknown {
    return {
      policy: this.name,
      ticks: this.ticks,
      runQueues: this.runqs.map((queues) => queues.map((queue) => queue.ids())),
      vcpus: [...this.vcpus.values()]
        .sort((a, b) => a.entity.key - b.entity.key)
        .map((vcpu) => ({ id: vcpu.entity.id, credit: vcpu.credit, priority: PRIORITY_NAMES[vcpu.priority], active: vcpu.active, parked: vcpu.parked })),
    };
  }

  // ------------------------------------------------------------------------------------------

  private sliceFor(vcpu: CreditVcpu): number {
    if (vcpu.capPercent > 0) return Math.max(1, Math.min(this.timesliceNs, vcpu.credit));
    return this.timesliceNs;
  }

  private insert(vcpu: CreditVcpu): void {
    if (vcpu.parked) return;
    this.runqs[vcpu.home][vcpu.priority].push(vcpu.entity);
    this.waitingByPriority[vcpu.priority]++;
    vcpu.queuedOn = vcpu.home;
  }

  private unqueue(vcpu: CreditVcpu): void {
    if (vcpu.queuedOn < 0) return;
    if (this.runqs[vcpu.queuedOn][vcpu.priority].remove(vcpu.entity.key)) this.waitingByPriority[vcpu.priority]--;
    vcpu.queuedOn = -1;
  }

  /** The local best, unless another CPU's queue holds a better one (work stealing). */
  private best(pcpu: number): CreditVcpu | undefined {
    const local = this.runqs[pcpu];
    let localPriority = PRIORITIES;
    for (let priority = 0; priority < PRIORITIES; priority++) {
      if (local[priority].size > 0) {
        localPriority = priority;
        break;
      }
    }
    if (localPriority <= Priority.UNDER) return this.state(local[localPriority].peek() as SchedEntity);
    // csched_load_balance: look for better work on the other CPUs, nearest first.
    const count = this.runqs.length;
    for (let priority = 0; priority < localPriority; priority++) {
      if (this.waitingByPriority[priority] === 0) continue;
      for (let step = 1; step < count; step++) {
        const peer = this.runqs[(pcpu + step) % count][priority];
        if (peer.size > 0) return this.state(peer.peek() as SchedEntity);
      }
    }
    return localPriority < PRIORITIES ? this.state(local[localPriority].peek() as SchedEntity) : undefined;
  }

  /** __runq_tickle: preempt the CPU running the least important vCPU, if it is less important. */
  private tickle(vcpu: CreditVcpu, now: number): void {
    const host = this.host;
    if (host === undefined) return;
    let target = -1;
    let targetPriority: number = vcpu.priority;
    for (let pcpu = 0; pcpu < this.running.length; pcpu++) {
      const running = this.running[pcpu];
      if (running === null) return; // An idle CPU will take it (the monitor kicks idle CPUs).
      if (running.vcpu.priority > targetPriority || (running.vcpu.priority === targetPriority && target >= 0 && pcpu === vcpu.home)) {
        target = pcpu;
        targetPriority = running.vcpu.priority;
      }
    }
    if (target < 0) return;
    const allowedAt = (this.running[target] as Running).since + this.ratelimitNs;
    if (allowedAt <= now) {
      host.preempt(target);
      return;
    }
    if (allowedAt < this.preemptAt[target]) {
      this.preemptAt[target] = allowedAt;
      host.requestTick(allowedAt);
    }
  }

  /** csched_acct: share the period's CPU time among the active VMs by weight, capped. */
  private account(now: number): void {
    const periodNs = this.periodNs;
    const totalNs = periodNs * this.options.pcpus;
    interface VmShare {
      weight: number;
      capPercent: number;
      active: CreditVcpu[];
    }
    const vms = new Map<string, VmShare>();
    for (const vcpu of this.vcpus.values()) {
      if (!vcpu.active) continue;
      let vm = vms.get(vcpu.entity.vm);
      if (vm === undefined) {
        vm = { weight: vcpu.weight, capPercent: vcpu.capPercent, active: [] };
        vms.set(vcpu.entity.vm, vm);
      }
      vm.active.push(vcpu);
    }
    let weightTotal = 0;
    for (const vm of vms.values()) weightTotal += vm.weight * vm.active.length;
    const host = this.host as PolicyHost;
    const requeue: CreditVcpu[] = [];
    for (const vm of vms.values()) {
      let fair = Math.ceil((totalNs * vm.weight * vm.active.length) / weightTotal);
      if (vm.capPercent > 0) fair = Math.min(fair, Math.ceil((vm.capPercent * periodNs) / 100));
      // A VM cannot use more than its active vCPUs' worth of CPU time.
      fair = Math.min(fair, periodNs * vm.active.length);
      const perVcpu = Math.ceil(fair / vm.active.length);
      for (const vcpu of vm.active) {
        // Out of its queue while its priority changes; back in below (csched_runq_sort).
        this.unqueue(vcpu);
        vcpu.credit += perVcpu;
        if (vcpu.credit < -periodNs) vcpu.credit = -periodNs;
        if (vcpu.credit < 0) {
          if (vcpu.priority !== Priority.BOOST) vcpu.priority = Priority.OVER;
          if (vcpu.capPercent > 0) vcpu.parked = true;
        } else {
          if (vcpu.priority === Priority.OVER) vcpu.priority = Priority.UNDER;
          vcpu.parked = vcpu.capPercent > 0 && vcpu.credit === 0;
          if (vcpu.credit > periodNs) {
            // It is not using its share: it stops earning until it runs again.
            vcpu.active = false;
            vcpu.credit = Math.floor(vcpu.credit / 2);
          }
        }
        if (vcpu.runnable) requeue.push(vcpu);
        else if (vcpu.parked && vcpu.runningOn >= 0) host.preempt(vcpu.runningOn);
      }
    }
    for (const vcpu of requeue) this.insert(vcpu);
    for (let pcpu = 0, wake = this.waiting; pcpu < this.running.length && wake > 0; pcpu++) {
      if (this.running[pcpu] === null) {
        host.wakeIdle(pcpu);
        wake--;
      }
    }
    void now;
  }
}
