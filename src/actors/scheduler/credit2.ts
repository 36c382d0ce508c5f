/**
 * Xen's credit2 scheduler (xen/common/sched/credit2.c), Xen's default since 4.12. The rules
 * below name the Xen function each follows; docs/scheduling.md ("Fidelity to Xen") lists what
 * is the same, simplified or different.
 *
 * - Run queues: groups of `runqueueSize` physical CPUs (0 = one for all; Xen groups by core,
 *   socket or node, `credit2_runqueue`). Each holds its vCPUs sorted by credit (runq_insert:
 *   FIFO among equal credit) and has its own max weight (update_max_weight).
 * - Credit: every vCPU starts with CREDIT_INIT (10 ms). Running burns `t × maxWeight / weight`
 *   of its run queue, with the remainder carried (t2c_update), floored at CREDIT_MIN (-10 ms).
 *   What counts as running is `scheduler.charge` (charging.ts).
 * - reset_credit: when the vCPU to run and the run queue's head have no credit left (top credit
 *   <= 0), every vCPU of the run queue, running ones burnt first, gets CREDIT_INIT more (twice
 *   that if the one to run is at CREDIT_MIN), clipped at CREDIT_INIT + CARRYOVER_MAX (10.5 ms);
 *   then balance_load evens out the run queues' loads.
 * - Picking (runq_candidate): a runner that has run less than `ratelimit` since it got the CPU
 *   keeps it. Otherwise the first queued vCPU with more credit wins, but one that last ran on
 *   another CPU needs CSCHED2_MIGRATE_RESIST (500 us) more than the runner; a vCPU picked on
 *   another CPU than its last gets CSCHED2_MIGRATE_COMPENSATION (50 us).
 * - Slice (csched2_runtime): until its credit falls to the next waiting one's, in
 *   [max(500 us, what is left of the ratelimit), 10 ms], at most the cap's budget.
 * - Wake-up (csched2_unit_wake -> csched2_res_pick, runq_tickle): the vCPU joins the least
 *   loaded run queue, then an idle CPU of it is tickled, else the busy CPU with the best
 *   tickle_score (the waker's credit minus the runner's, minus MIGRATE_RESIST on another CPU
 *   than the waker's), if positive. A runner that has run no more than ratelimit - 50 us is not
 *   a candidate (is_preemptable), and no preemption is deferred to the end of its ratelimit.
 * - Cap by budget: a capped VM gets cap% of 10 ms per 10 ms period; its vCPUs are parked when
 *   it is spent and unparked at the replenishment (simplified: Xen hands the budget to vCPUs in
 *   quanta, unit_grab_budget).
 * - No stealing: a CPU whose run queue is empty idles (loads move at resets and wake-ups only).
 */
import { hardAllows, softPrefers, softStep } from './affinity.js';
import type { ChargeMode, SchedulerSpec } from '../../core/scenario/schema.js';
import { chargeable, settle, type Meter } from './charging.js';
import type { EnqueueReason, Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

const CREDIT_INIT_NS = 10_000_000;
/** CSCHED2_CREDIT_MIN: the lowest credit a vCPU can have (t2c_update). */
const CREDIT_MIN_NS = -CREDIT_INIT_NS;
/** CSCHED2_IDLE_CREDIT: what an idle CPU's "vCPU" has, when the candidate scan starts from idle. */
const IDLE_CREDIT_NS = CREDIT_MIN_NS - 1;
const MIN_SLICE_NS = 500_000;
/** CSCHED2_CARRYOVER_MAX: the most credit a vCPU keeps over a reset (CSCHED2_MIN_TIMER). */
const CARRYOVER_MAX_NS = MIN_SLICE_NS;
const MAX_SLICE_NS = CREDIT_INIT_NS;
/** CSCHED2_MIGRATE_RESIST (sched_credit2_migrate_resist, 500 us). */
export const MIGRATE_RESIST_NS = 500_000;
/** CSCHED2_MIGRATE_COMPENSATION. */
const MIGRATE_COMPENSATION_NS = 50_000;
/** CSCHED2_RATELIMIT_TICKLE_TOLERANCE. */
const RATELIMIT_TOLERANCE_NS = 50_000;
const BUDGET_PERIOD_NS = 10_000_000;

interface Credit2Vcpu extends Meter {
  readonly entity: SchedEntity;
  readonly weight: number;
  credit: number;
  /** t2c_update's remainder. */
  residual: number;
  /** Its run queue (Xen's svc->rqd). */
  runq: number;
  /** The CPU it last ran on, or is placed on (Xen's sched_unit_master), -1 before. */
  pcpu: number;
  queued: boolean;
  runnable: boolean;
  runningOn: number;
  /** The CPU tickled to pick it, or -1 (Xen's tickled_cpu). */
  tickledCpu: number;
}

interface Budget {
  readonly capNs: number;
  leftNs: number;
  readonly parked: Credit2Vcpu[];
}

interface Runqueue {
  readonly index: number;
  readonly pcpus: number[];
  /** Queued vCPUs, most credit first, FIFO among equal credit (runq_insert). */
  readonly queue: Credit2Vcpu[];
  /** Every vCPU assigned to it, in assignment order (Xen's rqd->svc). */
  readonly members: Credit2Vcpu[];
  maxWeight: number;
  /** Its vCPUs running or runnable (kept as they change: read at every wake-up). */
  load: number;
  /** Round-robin start for placing vCPUs on its CPUs (Xen's pick_bias). */
  bias: number;
}

interface Running {
  readonly vcpu: Credit2Vcpu;
  /** When it got the CPU (Xen's state_entry_time). */
  readonly since: number;
}

export class Credit2Policy implements SchedulingPolicy {
  readonly name: string = 'credit2';
  private readonly ratelimitNs: number;
  private readonly chargeMode: ChargeMode;
  private readonly runqOf: number[] = [];
  private readonly runqs: Runqueue[] = [];
  private readonly vcpus = new Map<number, Credit2Vcpu>();
  private readonly budgets = new Map<string, Budget>();
  private readonly running: (Running | null)[] = [];
  /** Tickled and not yet through pick (Xen's rqd->tickled). */
  private readonly tickled: boolean[] = [];
  /** What shouldPreempt chose for a CPU, for the pick that follows. */
  private readonly chosen: (Credit2Vcpu | null)[] = [];
  private count = 0;
  private host: PolicyHost | undefined;
  private nextReplenishNs = BUDGET_PERIOD_NS;
  resets = 0;
  migrations = 0;

  constructor(private readonly options: PolicyOptions) {
    const scheduler: Partial<SchedulerSpec> = options.scheduler ?? {};
    this.ratelimitNs = scheduler.ratelimitNs ?? 1_000_000;
    this.chargeMode = scheduler.charge ?? 'held';
    const size = scheduler.runqueueSize === undefined || scheduler.runqueueSize === 0 ? options.pcpus : scheduler.runqueueSize;
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) {
      const index = Math.floor(pcpu / size);
      if (this.runqs[index] === undefined) this.runqs.push({ index, pcpus: [], queue: [], members: [], maxWeight: 1, load: 0, bias: 0 });
      this.runqs[index].pcpus.push(pcpu);
      this.runqOf.push(index);
      this.running.push(null);
      this.tickled.push(false);
      this.chosen.push(null);
    }
  }

  get waiting(): number {
    return this.count;
  }

  attach(host: PolicyHost): void {
    this.host = host;
    // Built in the middle of a run (a fork): budgets are replenished from the next period on.
    this.nextReplenishNs = Math.max(this.nextReplenishNs, Math.ceil(host.now / BUDGET_PERIOD_NS) * BUDGET_PERIOD_NS);
  }

  private state(entity: SchedEntity): Credit2Vcpu {
    let vcpu = this.vcpus.get(entity.key);
    if (vcpu === undefined) {
      const weight = entity.params.weight ?? 256;
      vcpu = { entity, weight, credit: CREDIT_INIT_NS, residual: 0, runq: -1, pcpu: -1, queued: false, runnable: false, runningOn: -1, tickledCpu: -1, startTime: 0 };
      this.vcpus.set(entity.key, vcpu);
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
    this.setActivity(vcpu, true, vcpu.runningOn);
    // csched2_unit_wake / csched2_unit_insert: a vCPU that (re)joins goes to the least loaded run queue.
    if (reason !== 'preempt' && reason !== 'yield') this.resPick(vcpu);
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
    this.setActivity(vcpu, false, vcpu.runningOn);
    const budget = this.budgets.get(entity.vm);
    if (budget !== undefined) {
      const index = budget.parked.indexOf(vcpu);
      if (index >= 0) budget.parked.splice(index, 1);
    }
  }

  /** csched2_free_udata (sched_move_domain): the vCPU moved to another cpupool; off its run queue (_runq_deassign) and forgotten. */
  forget(entity: SchedEntity): void {
    const vcpu = this.vcpus.get(entity.key);
    if (vcpu === undefined) return;
    this.remove(entity);
    if (vcpu.runq >= 0) {
      const runq = this.runqs[vcpu.runq];
      runq.members.splice(runq.members.indexOf(vcpu), 1);
      runq.maxWeight = runq.members.reduce((max, member) => Math.max(max, member.weight), 1);
    }
    for (const [pcpu, chosen] of this.chosen.entries()) if (chosen === vcpu) this.chosen[pcpu] = null;
    this.vcpus.delete(entity.key);
  }

  pick(pcpu: number, now: number): Pick | undefined {
    this.tickled[pcpu] = false;
    const runq = this.runqs[this.runqOf[pcpu]];
    let vcpu = this.chosen[pcpu];
    this.chosen[pcpu] = null;
    if (vcpu === null || !vcpu.queued || vcpu.runq !== runq.index) vcpu = this.candidate(runq, pcpu, IDLE_CREDIT_NS);
    if (vcpu === null) return undefined;
    this.unqueue(vcpu);
    this.setActivity(vcpu, false, pcpu);
    vcpu.startTime = now;
    vcpu.tickledCpu = -1;
    if (vcpu.pcpu >= 0 && vcpu.pcpu !== pcpu) vcpu.credit += MIGRATE_COMPENSATION_NS;
    vcpu.pcpu = pcpu;
    this.running[pcpu] = { vcpu, since: now };
    this.checkReset(runq, vcpu, now);
    return { entity: vcpu.entity, sliceNs: this.runtime(vcpu, now, now) };
  }

  /** runq_candidate, for a runner at the end of its slice: is there a better vCPU for this CPU? */
  shouldPreempt(pcpu: number, current: SchedEntity, now: number): boolean {
    const vcpu = this.state(current);
    this.chosen[pcpu] = null;
    const budget = this.budgets.get(current.vm);
    if (budget !== undefined && budget.leftNs <= 0) return true;
    const running = this.running[pcpu];
    if (this.ratelimitNs > 0 && running !== null && now - running.since < this.ratelimitNs) return false;
    const candidate = this.candidate(this.runqs[this.runqOf[pcpu]], pcpu, vcpu.credit);
    this.chosen[pcpu] = candidate;
    return candidate !== null;
  }

  extend(pcpu: number, current: SchedEntity, now: number): number {
    this.tickled[pcpu] = false;
    const vcpu = this.state(current);
    const running = this.running[pcpu];
    this.checkReset(this.runqs[vcpu.runq], vcpu, now);
    return this.runtime(vcpu, now, running === null ? now : running.since);
  }

  charge(entity: SchedEntity, ranNs: number, now: number): void {
    const vcpu = this.state(entity);
    this.burn(vcpu, vcpu.runningOn >= 0 ? chargeable(this.chargeMode, vcpu, ranNs, now) : ranNs);
  }

  leave(pcpu: number, _entity: SchedEntity, now: number): void {
    const running = this.running[pcpu];
    if (running !== null) {
      if (this.chargeMode === 'held') this.burn(running.vcpu, settle(running.vcpu, now));
      this.setActivity(running.vcpu, running.vcpu.runnable, -1);
    }
    this.running[pcpu] = null;
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
    if (this.budgets.size > 0) host.requestTick(this.nextReplenishNs);
  }

  snapshot(): unknown {
    return {
      policy: this.name,
      resets: this.resets,
      runQueues: this.runqs.map((runq) => ({ maxWeight: runq.maxWeight, queue: runq.queue.map((vcpu) => vcpu.entity.id) })),
      vcpus: [...this.vcpus.values()].sort((a, b) => a.entity.key - b.entity.key).map((vcpu) => ({ id: vcpu.entity.id, credit: vcpu.credit, runq: vcpu.runq })),
      budgets: Object.fromEntries([...this.budgets.entries()].map(([vm, budget]) => [vm, budget.leftNs])),
    };
  }

  // ------------------------------------------------------------------------------------------

  /** burn_credits / t2c_update: credit scaled by the run queue's max weight, remainder kept, floored at CREDIT_MIN. */
  private burn(vcpu: Credit2Vcpu, ns: number): void {
    if (ns <= 0) return;
    const scaled = ns * this.runqs[vcpu.runq].maxWeight + vcpu.residual;
    const credit = Math.floor(scaled / vcpu.weight);
    vcpu.residual = scaled - credit * vcpu.weight;
    vcpu.credit = Math.max(CREDIT_MIN_NS, vcpu.credit - credit);
    const budget = this.budgets.get(vcpu.entity.vm);
    if (budget !== undefined) budget.leftNs -= ns;
  }

  /**
   * runq_candidate: the first queued vCPU, in credit order, with more credit than `baseline`
   * (the runner's, or IDLE_CREDIT for an idle CPU), skipping one tickled for another CPU and
   * one from another CPU that does not beat the baseline by MIGRATE_RESIST.
   */
  private candidate(runq: Runqueue, pcpu: number, baseline: number): Credit2Vcpu | null {
    for (const vcpu of runq.queue) {
      if (vcpu.credit <= baseline) break;
      // runq_candidate: a vCPU whose hard affinity excludes this CPU is skipped.
      if (!hardAllows(vcpu.entity, pcpu)) continue;
      if (vcpu.tickledCpu >= 0 && vcpu.tickledCpu !== pcpu && this.tickled[vcpu.tickledCpu]) continue;
      // Migration resistance keeps a vCPU on its CPU, not on one its hard affinity excludes.
      if (vcpu.pcpu >= 0 && vcpu.pcpu !== pcpu && hardAllows(vcpu.entity, vcpu.pcpu) && baseline + MIGRATE_RESIST_NS > vcpu.credit) continue;
      return vcpu;
    }
    return null;
  }

  /** csched2_schedule: the epoch ends when the vCPU to run and the head of the queue have no credit. */
  private checkReset(runq: Runqueue, next: Credit2Vcpu, now: number): void {
    const head = runq.queue[0];
    const top = head === undefined ? next.credit : Math.max(next.credit, head.credit);
    if (top > 0) return;
    this.resetCredit(runq, next, now);
    this.balanceLoad(runq, now);
  }

  /**
   * reset_credit: every vCPU of the run queue gets CREDIT_INIT more (twice that if the one about
   * to run is at CREDIT_MIN), clipped at CREDIT_INIT + CARRYOVER_MAX. Running vCPUs are burnt
   * first (burn_credits), so what they ran before the reset is not charged after it. The
   * carryover matters: clipped at CREDIT_INIT, the vCPU just picked on another CPU when the reset
   * came lost the credit it held (up to a slice), and as CPU-bound runs fall into a cycle it was
   * the same vCPU at every reset (two weight-1024 VMs got 5.62 s and 5.20 s of 10 s).
   */
  private resetCredit(runq: Runqueue, next: Credit2Vcpu, now: number): void {
    this.resets++;
    const reset = next.credit <= CREDIT_MIN_NS ? 2 * CREDIT_INIT_NS : CREDIT_INIT_NS;
    for (const vcpu of runq.members) {
      if (vcpu.runningOn >= 0) this.burn(vcpu, settle(vcpu, now));
      vcpu.credit = Math.min(CREDIT_INIT_NS + CARRYOVER_MAX_NS, vcpu.credit + reset);
    }
    // Xen does not re-sort ("everyone's order should be the same"); the clip can only make equal.
  }

  /** csched2_runtime. `since` is when the vCPU got the CPU (the ratelimit counts from there). */
  private runtime(vcpu: Credit2Vcpu, now: number, since: number): number {
    let minimum = MIN_SLICE_NS;
    if (this.ratelimitNs > 0) minimum = Math.max(minimum, since + this.ratelimitNs - now);
    const head = this.runqs[vcpu.runq].queue[0];
    const waiting = head !== undefined && head.credit > 0 ? head.credit : 0;
    const credit = waiting > 0 ? vcpu.credit - waiting : vcpu.credit;
    let slice = credit > 0 ? Math.floor((credit * vcpu.weight) / this.runqs[vcpu.runq].maxWeight) : 0;
    const budget = this.budgets.get(vcpu.entity.vm);
    if (budget !== undefined) slice = Math.min(slice, budget.leftNs);
    if (slice < minimum) slice = minimum;
    else if (slice > MAX_SLICE_NS) slice = MAX_SLICE_NS;
    if (budget !== undefined) slice = Math.max(1, Math.min(slice, budget.leftNs));
    return slice;
  }

  /** runq_insert: after every vCPU with at least its credit. */
  private insert(vcpu: Credit2Vcpu): void {
    const queue = this.runqs[vcpu.runq].queue;
    let index = queue.length;
    while (index > 0 && queue[index - 1].credit < vcpu.credit) index--;
    queue.splice(index, 0, vcpu);
    vcpu.queued = true;
    this.count++;
  }

  private unqueue(vcpu: Credit2Vcpu): void {
    if (!vcpu.queued) return;
    const queue = this.runqs[vcpu.runq].queue;
    queue.splice(queue.indexOf(vcpu), 1);
    vcpu.queued = false;
    this.count--;
  }

  /** Sets whether the vCPU is runnable and where it runs, keeping its run queue's load. */
  private setActivity(vcpu: Credit2Vcpu, runnable: boolean, runningOn: number): void {
    const before = vcpu.runnable || vcpu.runningOn >= 0;
    vcpu.runnable = runnable;
    vcpu.runningOn = runningOn;
    const after = runnable || runningOn >= 0;
    if (before !== after && vcpu.runq >= 0) this.runqs[vcpu.runq].load += after ? 1 : -1;
  }

  /** _runq_assign / _runq_deassign with update_max_weight. */
  private assign(vcpu: Credit2Vcpu, runq: Runqueue): void {
    if (vcpu.runq === runq.index) return;
    const active = vcpu.runnable || vcpu.runningOn >= 0 ? 1 : 0;
    if (vcpu.runq >= 0) {
      const old = this.runqs[vcpu.runq];
      old.members.splice(old.members.indexOf(vcpu), 1);
      old.maxWeight = old.members.reduce((max, member) => Math.max(max, member.weight), 1);
      old.load -= active;
    }
    vcpu.runq = runq.index;
    runq.load += active;
    runq.members.push(vcpu);
    runq.maxWeight = Math.max(runq.maxWeight, vcpu.weight);
    if (vcpu.pcpu < 0 || this.runqOf[vcpu.pcpu] !== runq.index) {
      // The first CPU of the run queue from the bias on that the hard affinity allows.
      const count = runq.pcpus.length;
      let offset = 0;
      while (offset < count - 1 && !hardAllows(vcpu.entity, runq.pcpus[(runq.bias + offset) % count])) offset++;
      vcpu.pcpu = runq.pcpus[(runq.bias + offset) % count];
      runq.bias++;
    }
  }

  /** A run queue's load: its vCPUs running or runnable (Xen: a decaying average of the same). */
  private load(runq: Runqueue): number {
    return runq.load;
  }

  /**
   * csched2_res_pick: the least loaded run queue (its own on a tie), among those with a CPU of the
   * vCPU's soft affinity if any has one, else among those with a CPU of its hard affinity (Xen's
   * balance steps). Without affinity every run queue qualifies.
   */
  private resPick(vcpu: Credit2Vcpu): void {
    const entity = vcpu.entity;
    const soft = this.runqs.filter((runq) => runq.pcpus.some((pcpu) => softStep(entity, pcpu)));
    const allowed = soft.length > 0 ? soft : entity.affinity === undefined ? this.runqs : this.runqs.filter((runq) => runq.pcpus.some((pcpu) => hardAllows(entity, pcpu)));
    const own = vcpu.runq >= 0 ? this.runqs[vcpu.runq] : this.runqs[0];
    let best = allowed.includes(own) ? own : allowed[0];
    if (this.runqs.length > 1) {
      // The waking vCPU is already counted as runnable where it is assigned.
      let bestLoad = this.load(best) - (vcpu.runq === best.index ? 1 : 0);
      for (const runq of allowed) {
        const load = this.load(runq) - (vcpu.runq === runq.index ? 1 : 0);
        if (load < bestLoad) {
          best = runq;
          bestLoad = load;
        }
      }
    }
    if (vcpu.runq >= 0 && vcpu.runq !== best.index) this.migrations++;
    this.assign(vcpu, best);
  }

  /**
   * balance_load, at a reset of `local`: with the run queue whose load differs most, move the
   * queued vCPU (push or pull) that brings the loads closest, if it brings them closer.
   */
  private balanceLoad(local: Runqueue, now: number): void {
    if (this.runqs.length < 2) return;
    const localLoad = this.load(local);
    let other: Runqueue | null = null;
    let delta = 0;
    for (const runq of this.runqs) {
      if (runq === local) continue;
      const difference = Math.abs(localLoad - this.load(runq));
      if (difference > delta) {
        delta = difference;
        other = runq;
      }
    }
    // Moving one vCPU changes the difference by 2: only worth it from a difference of 2.
    if (other === null || delta < 2) return;
    const [from, to] = localLoad > this.load(other) ? [local, other] : [other, local];
    // migrate: only a vCPU whose hard affinity allows a CPU of the destination.
    const mover = from.members.find((vcpu) => vcpu.queued && (vcpu.entity.affinity === undefined || to.pcpus.some((pcpu) => hardAllows(vcpu.entity, pcpu))));
    if (mover === undefined) return;
    this.unqueue(mover);
    this.assign(mover, to);
    this.migrations++;
    this.insert(mover);
    this.tickle(mover, now);
  }

  /** is_preemptable: a runner that has run no more than ratelimit - 50 us is left alone. */
  private preemptable(running: Running, now: number): boolean {
    if (this.ratelimitNs <= RATELIMIT_TOLERANCE_NS) return true;
    return now - running.since > this.ratelimitNs - RATELIMIT_TOLERANCE_NS;
  }

  /**
   * runq_tickle: an idle, untickled CPU of the waker's run queue (its own CPU first); else the
   * busy one with the best tickle_score, if positive. Nothing is deferred: a runner protected by
   * the ratelimit is simply not a candidate.
   */
  private tickle(vcpu: Credit2Vcpu, now: number): void {
    const host = this.host;
    if (host === undefined) return;
    const runq = this.runqs[vcpu.runq];
    const cpus = runq.pcpus;
    const start = Math.max(0, cpus.indexOf(vcpu.pcpu));
    // runq_tickle's for_each_affinity_balance_step: an idle CPU of the soft affinity first, then
    // one of the hard affinity (without affinity both steps see every CPU, and the first finds it).
    for (const allowed of [softPrefers, hardAllows]) {
      for (let step = 0; step < cpus.length; step++) {
        const pcpu = cpus[(start + step) % cpus.length];
        if (this.running[pcpu] === null && !this.tickled[pcpu] && allowed(vcpu.entity, pcpu)) {
          this.tickled[pcpu] = true;
          vcpu.tickledCpu = pcpu;
          host.wakeIdle(pcpu);
          return;
        }
      }
    }
    let target = -1;
    let best = 0;
    for (let step = 0; step < cpus.length; step++) {
      const pcpu = cpus[(start + step) % cpus.length];
      const running = this.running[pcpu];
      if (running === null || this.tickled[pcpu] || !hardAllows(vcpu.entity, pcpu) || !this.preemptable(running, now)) continue;
      // tickle_score: burn the runner's credit up to now first.
      this.burn(running.vcpu, settle(running.vcpu, now));
      let score = vcpu.credit - running.vcpu.credit;
      if (pcpu !== vcpu.pcpu) score -= MIGRATE_RESIST_NS;
      if (score > best) {
        best = score;
        target = pcpu;
      }
    }
    if (target < 0) return;
    this.tickled[target] = true;
    vcpu.tickledCpu = target;
    host.preempt(target);
  }
}
