/**
 * Xen's credit2 scheduler (xen/common/sched/credit2.c), Xen's default since 4.12.
 *
 * - Every vCPU starts with CREDIT_INIT (10 ms) of credit. Running burns credit scaled by weight:
 *   a vCPU of weight w burns ran × maxWeight / w, so heavier vCPUs burn slower (Xen's t2c).
 * - Each run queue (a group of `runqueueSize` physical CPUs; Xen groups by socket) runs the
 *   vCPU with the most credit. When the vCPU about to be picked has no credit left, every vCPU
 *   of that run queue gets CREDIT_INIT more, at most CREDIT_INIT in all (reset_credit).
 * - A slice lasts until the running vCPU's credit would fall to the next one's, within
 *   [500 us, 10 ms] (csched2_runtime), and at least `ratelimit` (1 ms).
 * - A waking vCPU preempts the vCPU with the least credit on its run queue's CPUs if it has more
 *   credit (runq_tickle), once that one has run `ratelimit`.
 * - Cap by budget: a capped VM gets cap% of 10 ms of CPU time per 10 ms period
 *   (CSCHED2_BDGT_REPL_PERIOD); its vCPUs are parked when the budget is spent and unparked at
 *   the replenishment.
 * - A CPU whose run queue is empty takes work from the other run queues (a simplification of
 *   credit2's periodic load balancing).
 */
import type { SchedulerSpec } from '../../core/scenario/schema.js';
import { EntityHeap } from './heap.js';
import type { EnqueueReason, Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

const CREDIT_INIT_NS = 10_000_000;
const MIN_SLICE_NS = 500_000;
/** CSCHED2_CARRYOVER_MAX: the most credit a vCPU keeps over a reset (CSCHED2_MIN_TIMER). */
const CARRYOVER_MAX_NS = MIN_SLICE_NS;
const MAX_SLICE_NS = 10_000_000;
const BUDGET_PERIOD_NS = 10_000_000;

interface Credit2Vcpu {
  readonly entity: SchedEntity;
  readonly weight: number;
  credit: number;
  runq: number;
  queued: boolean;
  runnable: boolean;
  runningOn: number;
  startTime: number;
}

interface Budget {
  readonly capNs: number;
  leftNs: number;
  readonly parked: Credit2Vcpu[];
}

export class Credit2Policy implements SchedulingPolicy {
  readonly name: string = 'credit2';
  private readonly ratelimitNs: number;
  private readonly runqOf: number[] = [];
  private readonly runqs: EntityHeap[] = [];
  private readonly vcpus = new Map<number, Credit2Vcpu>();
  private readonly budgets = new Map<string, Budget>();
  private readonly running: ({ vcpu: Credit2Vcpu; since: number } | null)[] = [];
  private readonly preemptAt: number[] = [];
  private maxWeight = 1;
  private count = 0;
  private host: PolicyHost | undefined;
  private nextReplenishNs = BUDGET_PERIOD_NS;
  resets = 0;

  constructor(private readonly options: PolicyOptions) {
    const scheduler: Partial<SchedulerSpec> = options.scheduler ?? {};
    this.ratelimitNs = scheduler.ratelimitNs ?? 1_000_000;
    const size = scheduler.runqueueSize === undefined || scheduler.runqueueSize === 0 ? options.pcpus : scheduler.runqueueSize;
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) {
      this.runqOf.push(Math.floor(pcpu / size));
      this.running.push(null);
      this.preemptAt.push(Number.POSITIVE_INFINITY);
    }
    for (let index = 0; index <= this.runqOf[options.pcpus - 1]; index++) this.runqs.push(new EntityHeap());
  }

  get waiting(): number {
    return this.count;
  }

  attach(host: PolicyHost): void {
    this.host = host;
  }

  private state(entity: SchedEntity): Credit2Vcpu {
    let vcpu = this.vcpus.get(entity.key);
    if (vcpu === undefined) {
      const weight = entity.params.weight ?? 256;
      vcpu = { entity, weight, credit: CREDIT_INIT_NS, runq: this.runqOf[entity.key % this.options.pcpus], queued: false, runnable: false, runningOn: -1, startTime: 0 };
      this.vcpus.set(entity.key, vcpu);
      this.maxWeight = Math.max(this.maxWeight, weight);
      const cap = entity.params.cap ?? 0;
      if (cap > 0 && !this.budgets.has(entity.vm)) {
        const capNs = Math.max(1, Math.floor((cap * BUDGET_PERIOD_NS) / 100));
        this.budgets.set(entity.vm, { capNs, leftNs: capNs, parked: [] });
        this.host?.requestTick(this.nextReplenishNs);
      }
    }
    return vcpu;
  }

  enqueue(entity: SchedEntity, now: number, reason: EnqueueReason = 'wake'): void {
    const vcpu = this.state(entity);
    if (vcpu.queued) return;
    vcpu.runnable = true;
    const budget = this.budgets.get(entity.vm);
    if (budget !== undefined && budget.leftNs <= 0) {
      if (!budget.parked.includes(vcpu)) budget.parked.push(vcpu);
      return;
    }
    this.insert(vcpu);
    if (reason !== 'preempt' && reason !== 'yield') this.tickle(vcpu, now);
  }

  remove(entity: SchedEntity): void {
    const vcpu = this.vcpus.get(entity.key);
    if (vcpu === undefined) return;
    this.unqueue(vcpu);
    vcpu.runnable = false;
    const budget = this.budgets.get(entity.vm);
    if (budget !== undefined) {
      const index = budget.parked.indexOf(vcpu);
      if (index >= 0) budget.parked.splice(index, 1);
    }
  }

  pick(pcpu: number, now: number): Pick | undefined {
    let runq = this.runqOf[pcpu];
    if (this.runqs[runq].size === 0) {
      // Nothing local: take work from the busiest other run queue.
      let best = -1;
      for (let index = 0; index < this.runqs.length; index++) if (this.runqs[index].size > 0 && (best < 0 || this.runqs[index].size > this.runqs[best].size)) best = index;
      if (best < 0) return undefined;
      runq = best;
    }
    const heap = this.runqs[runq];
    let vcpu = this.state(heap.peek() as SchedEntity);
    if (vcpu.credit <= 0) {
      this.resetCredit(runq, now);
      vcpu = this.state(heap.peek() as SchedEntity);
    }
    this.unqueue(vcpu);
    vcpu.runnable = false;
    vcpu.runningOn = pcpu;
    vcpu.startTime = now;
    vcpu.runq = this.runqOf[pcpu];
    this.running[pcpu] = { vcpu, since: now };
    this.preemptAt[pcpu] = Number.POSITIVE_INFINITY;
    return { entity: vcpu.entity, sliceNs: this.sliceFor(vcpu) };
  }

  shouldPreempt(pcpu: number, current: SchedEntity): boolean {
    const vcpu = this.state(current);
    const budget = this.budgets.get(current.vm);
    if (budget !== undefined && budget.leftNs <= 0) return true;
    const heap = this.runqs[this.runqOf[pcpu]];
    if (heap.size === 0) return false;
    const next = this.state(heap.peek() as SchedEntity);
    return next.credit > vcpu.credit || vcpu.credit <= 0;
  }

  extend(pcpu: number, current: SchedEntity, now: number): number {
    const running = this.running[pcpu];
    if (running !== null) running.since = now;
    const vcpu = this.state(current);
    if (vcpu.credit <= 0) this.resetCredit(this.runqOf[pcpu], now);
    return this.sliceFor(vcpu);
  }

  charge(entity: SchedEntity, ranNs: number, now: number): void {
    const vcpu = this.state(entity);
    // Only what ran since the last charge (start_time): a reset may have charged part of it.
    this.burn(vcpu, vcpu.runningOn >= 0 ? Math.min(ranNs, now - vcpu.startTime) : ranNs, now);
  }

  /** burn_credits: charges `ranNs` ending at `now` to the vCPU's credit and its VM's budget. */
  private burn(vcpu: Credit2Vcpu, ranNs: number, now: number): void {
    vcpu.startTime = now;
    if (ranNs <= 0) return;
    vcpu.credit -= Math.ceil((ranNs * this.maxWeight) / vcpu.weight);
    const budget = this.budgets.get(vcpu.entity.vm);
    if (budget !== undefined) budget.leftNs -= ranNs;
  }

  leave(pcpu: number): void {
    const running = this.running[pcpu];
    if (running !== null) running.vcpu.runningOn = -1;
    this.running[pcpu] = null;
    this.preemptAt[pcpu] = Number.POSITIVE_INFINITY;
  }

  tick(now: number): void {
    const host = this.host as PolicyHost;
    if (now >= this.nextReplenishNs && this.budgets.size > 0) {
      while (this.nextReplenishNs <= now) this.nextReplenishNs += BUDGET_PERIOD_NS;
      for (const budget of this.budgets.values()) {
        budget.leftNs = Math.min(budget.capNs, budget.leftNs + budget.capNs);
        if (budget.leftNs <= 0) continue;
        for (const vcpu of budget.parked.splice(0)) {
          if (!vcpu.runnable) continue;
          this.insert(vcpu);
          this.tickle(vcpu, now);
        }
      }
    }
    for (let pcpu = 0; pcpu < this.preemptAt.length; pcpu++) {
      if (this.preemptAt[pcpu] <= now) {
        this.preemptAt[pcpu] = Number.POSITIVE_INFINITY;
        host.preempt(pcpu);
      }
    }
    const next = Math.min(this.budgets.size > 0 ? this.nextReplenishNs : Number.POSITIVE_INFINITY, ...this.preemptAt);
    if (next < Number.POSITIVE_INFINITY) host.requestTick(next);
  }

  snapshot(): unknown {
    return {
      policy: this.name,
      resets: this.resets,
      runQueues: this.runqs.map((heap) => heap.sorted().map((item) => item.entity.id)),
      vcpus: [...this.vcpus.values()].sort((a, b) => a.entity.key - b.entity.key).map((vcpu) => ({ id: vcpu.entity.id, credit: vcpu.credit })),
      budgets: Object.fromEntries([...this.budgets.entries()].map(([vm, budget]) => [vm, budget.leftNs])),
    };
  }

  // ------------------------------------------------------------------------------------------

  private sliceFor(vcpu: Credit2Vcpu): number {
    const heap = this.runqs[vcpu.runq];
    const next = heap.size > 0 ? this.state(heap.peek() as SchedEntity).credit : 0;
    let slice = Math.floor(((vcpu.credit - next) * vcpu.weight) / this.maxWeight);
    slice = Math.min(MAX_SLICE_NS, Math.max(MIN_SLICE_NS, this.ratelimitNs, slice));
    const budget = this.budgets.get(vcpu.entity.vm);
    if (budget !== undefined) slice = Math.max(1, Math.min(slice, budget.leftNs));
    return slice;
  }

  private insert(vcpu: Credit2Vcpu): void {
    this.runqs[vcpu.runq].set(vcpu.entity, -vcpu.credit);
    vcpu.queued = true;
    this.count++;
  }

  private unqueue(vcpu: Credit2Vcpu): void {
    if (!vcpu.queued) return;
    this.runqs[vcpu.runq].remove(vcpu.entity.key);
    vcpu.queued = false;
    this.count--;
  }

  /**
   * reset_credit: every vCPU of the run queue (queued or running there) gets CREDIT_INIT more,
   * clipped at CREDIT_INIT + CARRYOVER_MAX. The carryover matters: clipped at CREDIT_INIT, the
   * vCPU that had just been picked on another CPU when the reset came lost the credit it held
   * (up to a slice), and as CPU-bound runs fall into a cycle it was the same vCPU at every reset
   * (two weight-1024 VMs got 5.62 s and 5.20 s of 10 s).
   */
  private resetCredit(runq: number, now: number): void {
    this.resets++;
    for (const vcpu of this.vcpus.values()) {
      if (vcpu.runq !== runq) continue;
      // burn_credits: a running vCPU's time since its last charge is charged before the reset,
      // or it would be charged after it, to the new credit (and a clipped vCPU would lose it).
      if (vcpu.runningOn >= 0) this.burn(vcpu, now - vcpu.startTime, now);
      vcpu.credit = Math.min(CREDIT_INIT_NS + CARRYOVER_MAX_NS, vcpu.credit + CREDIT_INIT_NS);
      if (vcpu.queued) this.runqs[runq].set(vcpu.entity, -vcpu.credit);
    }
  }

  /** runq_tickle: preempt the CPU of this run queue whose vCPU has the least credit, if less than the waker's. */
  private tickle(vcpu: Credit2Vcpu, now: number): void {
    const host = this.host;
    if (host === undefined) return;
    let target = -1;
    let least = vcpu.credit;
    for (let pcpu = 0; pcpu < this.running.length; pcpu++) {
      if (this.runqOf[pcpu] !== vcpu.runq) continue;
      const running = this.running[pcpu];
      if (running === null) {
        host.wakeIdle(pcpu);
        return;
      }
      if (running.vcpu.credit < least) {
        least = running.vcpu.credit;
        target = pcpu;
      }
    }
    if (target < 0) return;
    const allowedAt = (this.running[target] as { since: number }).since + this.ratelimitNs;
    if (allowedAt <= now) host.preempt(target);
    else if (allowedAt < this.preemptAt[target]) {
      this.preemptAt[target] = allowedAt;
      host.requestTick(allowedAt);
    }
  }
}
