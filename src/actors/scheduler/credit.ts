/**
 * Xen's credit scheduler (xen/common/sched/credit.c), the default of Xen up to 4.11.
 * docs/scheduling.md has the rules with the Xen function each follows, and where it differs.
 *
 * - Each VM has a weight (1..65535, default 256) and a cap (percent of one physical CPU, 0 = none).
 * - Every vCPU holds credit (here in ns of CPU time). Running burns it, ns for ns (burn_credits;
 *   what counts as running is `scheduler.charge`, charging.ts). The time slice is `timeslice`
 *   (30 ms); every `tick` (a third of the slice, __csched_set_tslice) a vCPU found running loses
 *   BOOST and starts earning (csched_tick, csched_unit_acct). Every slice (csched_acct) the
 *   slice's CPU time, slice × pCPUs, is shared among the active VMs by weight; what a VM cannot
 *   use (its active vCPUs' worth, or its cap) goes to the VMs after it (credit_peak). Accounting
 *   sets every active vCPU to UNDER (credit >= 0) or OVER (< 0), BOOST included; credit above one
 *   slice's worth stops the vCPU earning and is halved; credit is floored at minus one slice.
 * - Priority: BOOST > UNDER > OVER; a physical CPU with nothing to run is IDLE. A vCPU that wakes
 *   from blocking while UNDER is BOOSTed (csched_unit_wake). __runq_tickle: if a CPU is idle it
 *   takes the waker; otherwise the waker preempts the vCPU on its own CPU (the one it last ran
 *   on) if that one has a lower priority, but not before it has run `ratelimit` (1 ms) since it
 *   got the CPU (csched_schedule's rate limiting).
 * - Run queues are per physical CPU, ordered by priority, FIFO within a priority; a vCPU goes
 *   back to the queue of the CPU it last ran on. A CPU whose best local vCPU is OVER (or that has
 *   none) steals a better one from the other CPUs' queues (csched_load_balance).
 * - At the end of its slice the vCPU keeps the CPU only if nobody of its priority or better waits.
 * - With host.topology, the SMT-aware pick (_csched_cpu_pick, smtPick.ts) places a starting
 *   vCPU on an idle CPU of a fully idle core (or socket), and at every tick moves a running vCPU
 *   whose sibling is busy to such a core; no CPU steals from an idle CPU's queue
 *   (csched_runq_steal). Without a topology none of this runs, and logs are as they were.
 * - Caps (`scheduler.capEnforcement`): `park` (Xen's, the default) parks a capped vCPU at
 *   accounting when its credit is below minus its share of the cap, and unparks it when an
 *   accounting brings it back to 0 or more, so a cap holds on average over a few slices;
 *   `period` cuts a capped vCPU's slice at its remaining credit and parks it at 0, so a cap
 *   holds within every accounting period (vmmsim's rule before).
 */
import { defaultTick, type CapEnforcement, type ChargeMode, type SchedulerSpec, type TopologySpec } from '../../core/scenario/schema.js';
import { chargeable, settle, type Meter } from './charging.js';
import { hardAllows, softPrefers, softStep } from './affinity.js';
import { EntityFifo } from './fifo.js';
import { smtPick } from './smtPick.js';
import { nodeOfPcpu } from '../../core/scenario/numa.js';
import type { EnqueueReason, Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

export const enum Priority {
  BOOST = 0,
  UNDER = 1,
  OVER = 2,
}
const PRIORITY_NAMES = ['BOOST', 'UNDER', 'OVER'];
const PRIORITIES = 3;

export const CREDIT_DEFAULTS = { timesliceNs: 30_000_000, ratelimitNs: 1_000_000 } as const;

export interface CreditTuning {
  /** Whether waking vCPUs are BOOSTed (true in Xen; off to measure what BOOST buys). */
  readonly boost?: boolean;
  /**
   * Whether a vCPU's first enqueue (`start`) BOOSTs it as a wake-up does. Xen does: a new vCPU
   * is inserted down (csched_unit_insert queues nothing) and its first vcpu_wake goes through
   * csched_unit_wake. On by default since engine 0.4.0 (Xen's rule); `false` gives engine 0.3.0's
   * start at UNDER (docs/scheduling.md, driver domain study).
   */
  readonly startBoost?: boolean;
}

interface CreditVcpu extends Meter {
  readonly entity: SchedEntity;
  readonly weight: number;
  readonly capPercent: number;
  credit: number;
  priority: Priority;
  /** On its VM's active list: earns credit at accounting. */
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
  /** A tick found a better CPU for it while it ran (Xen's _VPF_migrating): it gives its CPU up. */
  migrating: boolean;
}

interface Running {
  vcpu: CreditVcpu;
  /** When it got the CPU (Xen's state_entry_time): the rate limit counts from here. */
  since: number;
}

/** A VM on the accounting's active list (Xen's csched_dom). */
interface ActiveVm {
  readonly name: string;
  readonly weight: number;
  readonly capPercent: number;
  /** Its active vCPUs, most recently activated first (Xen's sdom->active_unit). */
  readonly vcpus: CreditVcpu[];
}

export class CreditPolicy implements SchedulingPolicy {
  readonly name: string = 'credit';
  private readonly timesliceNs: number;
  private readonly ratelimitNs: number;
  private readonly tickNs: number;
  private readonly chargeMode: ChargeMode;
  private readonly capEnforcement: CapEnforcement;
  private readonly boost: boolean;
  private readonly startBoost: boolean;
  private readonly vcpus = new Map<number, CreditVcpu>();
  /** runqs[pcpu][priority]. */
  private readonly runqs: EntityFifo[][] = [];
  private readonly waitingByPriority = [0, 0, 0];
  private readonly running: (Running | null)[] = [];
  /** A wake-up preemption waiting for the ratelimit to pass, per physical CPU (time or Infinity). */
  private readonly preemptAt: number[] = [];
  /** Xen's prv->active_sdom, in its order: VMs with at least one active vCPU. */
  private readonly activeVms: ActiveVm[] = [];
  /** host.topology: with it, placement and ticks use the SMT-aware pick (_csched_cpu_pick). */
  private readonly topology: TopologySpec | undefined;
  /** Xen's per-CPU idle_bias: where the pick's search among a group's idle CPUs starts. */
  private readonly idleBias: number[] = [];
  /** Xen's prv->credit_balance: the active vCPUs' credit after the last accounting. */
  private creditBalance = 0;
  private host: PolicyHost | undefined;
  private nextTickNs: number;
  private nextAccountNs: number;
  private ticks = 0;
  /**
   * With NUMA nodes, the order in which each CPU looks at the others' queues when it steals:
   * its own node's CPUs first, then the next node's (csched_load_balance's `peer_node` loop).
   * Absent without nodes: nearest index first.
   */
  private readonly peersByNode: number[][] | undefined;

  constructor(
    private readonly options: PolicyOptions,
    tuning: CreditTuning = {},
  ) {
    const scheduler: Partial<SchedulerSpec> = options.scheduler ?? {};
    this.timesliceNs = scheduler.timesliceNs ?? CREDIT_DEFAULTS.timesliceNs;
    this.ratelimitNs = scheduler.ratelimitNs ?? CREDIT_DEFAULTS.ratelimitNs;
    this.tickNs = scheduler.tickNs ?? defaultTick(this.timesliceNs);
    this.chargeMode = scheduler.charge ?? 'held';
    this.capEnforcement = scheduler.capEnforcement ?? 'park';
    this.boost = tuning.boost ?? scheduler.boost ?? true;
    this.startBoost = tuning.startBoost ?? true;
    if (!(this.timesliceNs > 0 && this.tickNs > 0 && this.ratelimitNs >= 0)) throw new RangeError('credit needs a positive timeslice and tick');
    this.topology = options.topology;
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) {
      this.runqs.push(Array.from({ length: PRIORITIES }, () => new EntityFifo()));
      this.running.push(null);
      this.preemptAt.push(Number.POSITIVE_INFINITY);
      this.idleBias.push(options.pcpus - 1);
    }
    this.nextTickNs = this.tickNs;
    this.nextAccountNs = this.timesliceNs;
    const topology = options.topology;
    if (topology !== undefined && (topology.nodes ?? 1) >= 2) {
      const nodes = topology.nodes ?? 1;
      const count = options.pcpus;
      const distance = (from: number, to: number) => (nodeOfPcpu(topology, to) - nodeOfPcpu(topology, from) + nodes) % nodes;
      this.peersByNode = Array.from({ length: count }, (_, pcpu) =>
        Array.from({ length: count - 1 }, (_, step) => (pcpu + step + 1) % count).sort((x, y) => distance(pcpu, x) - distance(pcpu, y) || (x - pcpu + count) % count - (y - pcpu + count) % count),
      );
    }
  }

  get waiting(): number {
    return this.waitingByPriority[0] + this.waitingByPriority[1] + this.waitingByPriority[2];
  }

  /** The accounting period: one time slice (csched_acct re-arms its timer every prv->tslice). */
  get periodNs(): number {
    return this.timesliceNs;
  }

  attach(host: PolicyHost): void {
    this.host = host;
    // Built in the middle of a run (a fork that switches policy): the tick and the accounting go
    // on from the next multiples of their periods, not from instants already past.
    this.nextTickNs = Math.max(this.nextTickNs, Math.ceil(host.now / this.tickNs) * this.tickNs);
    this.nextAccountNs = Math.max(this.nextAccountNs, Math.ceil(host.now / this.timesliceNs) * this.timesliceNs);
    host.requestTick(Math.min(this.nextTickNs, this.nextAccountNs));
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
        home: homeOf(entity, this.options.pcpus),
        queuedOn: -1,
        runnable: false,
        runningOn: -1,
        migrating: false,
        startTime: 0,
      };
      this.vcpus.set(entity.key, vcpu);
    }
    return vcpu;
  }

  enqueue(entity: SchedEntity, now: number, reason: EnqueueReason = 'wake'): void {
    const vcpu = this.state(entity);
    if (vcpu.queuedOn >= 0) return;
    vcpu.runnable = true;
    const wakes = reason === 'wake' || (reason === 'start' && this.startBoost);
    if (wakes && this.boost && vcpu.priority === Priority.UNDER && !vcpu.parked) vcpu.priority = Priority.BOOST;
    // Placement (csched_unit_insert -> csched_res_pick), and the end of a migration a tick asked
    // for (sched_unit_migrate_finish -> csched_res_pick; csched_unit_wake then gives no BOOST,
    // and a preempted vCPU gets none here anyway). A wake-up keeps its CPU, as in Xen.
    const migrated = vcpu.migrating;
    if (this.topology !== undefined && (reason === 'start' || migrated)) {
      vcpu.migrating = false;
      vcpu.home = this.cpuPick(vcpu, true);
    }
    this.insert(vcpu);
    if (vcpu.queuedOn >= 0 && (reason === 'wake' || reason === 'start' || reason === 'resume' || migrated)) this.tickle(vcpu, now);
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
    vcpu.startTime = now;
    this.running[pcpu] = { vcpu, since: now };
    this.preemptAt[pcpu] = Number.POSITIVE_INFINITY;
    return { entity: vcpu.entity, sliceNs: this.sliceFor(vcpu) };
  }

  shouldPreempt(_pcpu: number, current: SchedEntity): boolean {
    const vcpu = this.state(current);
    if (vcpu.parked || vcpu.migrating) return true;
    for (let priority = 0; priority <= vcpu.priority; priority++) if (this.waitingByPriority[priority] > 0) return true;
    return false;
  }

  extend(_pcpu: number, current: SchedEntity): number {
    return this.sliceFor(this.state(current));
  }

  charge(entity: SchedEntity, ranNs: number, now: number): void {
    const vcpu = this.state(entity);
    this.burn(vcpu, vcpu.runningOn >= 0 ? chargeable(this.chargeMode, vcpu, ranNs, now) : ranNs);
  }

  leave(pcpu: number, _entity: SchedEntity, now: number): void {
    const running = this.running[pcpu];
    if (running !== null) {
      if (this.chargeMode === 'held') this.burn(running.vcpu, settle(running.vcpu, now));
      running.vcpu.runningOn = -1;
    }
    this.running[pcpu] = null;
    this.preemptAt[pcpu] = Number.POSITIVE_INFINITY;
  }

  tick(now: number): void {
    const host = this.host as PolicyHost;
    if (now >= this.nextTickNs) {
      this.ticks++;
      while (this.nextTickNs <= now) this.nextTickNs += this.tickNs;
      // csched_tick -> csched_unit_acct: a vCPU found running at a tick has had its boost, its
      // credit is burnt up to now, and it starts earning if it was not.
      for (let pcpu = 0; pcpu < this.running.length; pcpu++) {
        const running = this.running[pcpu];
        if (running === null) continue;
        const vcpu = running.vcpu;
        if (vcpu.priority === Priority.BOOST) vcpu.priority = Priority.UNDER;
        this.burn(vcpu, settle(vcpu, now));
        // One already earning is checked for a better CPU (_csched_cpu_pick without commit): a
        // fully idle core or socket takes it. It gives its CPU up now and is placed on the way back.
        if (!this.activate(vcpu) && this.topology !== undefined && !vcpu.migrating && this.cpuPick(vcpu, false) !== pcpu) {
          vcpu.migrating = true;
          host.preempt(pcpu);
        }
      }
    }
    if (now >= this.nextAccountNs) {
      while (this.nextAccountNs <= now) this.nextAccountNs += this.timesliceNs;
      this.account();
    }
    for (let pcpu = 0; pcpu < this.preemptAt.length; pcpu++) {
      if (this.preemptAt[pcpu] <= now) {
        this.preemptAt[pcpu] = Number.POSITIVE_INFINITY;
        host.preempt(pcpu);
      }
    }
    host.requestTick(Math.min(this.nextTickNs, this.nextAccountNs, ...this.preemptAt));
  }

  snapshot(): unknown {
    return {
      policy: this.name,
      ticks: this.ticks,
      creditBalance: this.creditBalance,
      runQueues: this.runqs.map((queues) => queues.map((queue) => queue.ids())),
      vcpus: [...this.vcpus.values()]
        .sort((a, b) => a.entity.key - b.entity.key)
        .map((vcpu) => ({ id: vcpu.entity.id, credit: vcpu.credit, priority: PRIORITY_NAMES[vcpu.priority], active: vcpu.active, parked: vcpu.parked })),
    };
  }

  // ------------------------------------------------------------------------------------------

  /** burn_credits. Under `period` cap enforcement a capped vCPU is parked the moment its credit is gone. */
  private burn(vcpu: CreditVcpu, ns: number): void {
    if (ns <= 0) return;
    vcpu.credit -= ns;
    if (this.capEnforcement === 'period' && vcpu.capPercent > 0 && vcpu.credit <= 0) {
      // Parked vCPUs stay on the active list, so the accounting gives them credit again.
      vcpu.parked = true;
      this.activate(vcpu);
    }
  }

  /**
   * _csched_cpu_pick over the vCPU's affinity balance steps (soft, for a vCPU with a soft mask,
   * then hard). Idle: no vCPU running and none queued; the vCPU's own CPU counts as idle when it
   * runs there with nothing queued behind it. `commit` moves the idle_bias, as csched_res_pick does.
   */
  private cpuPick(vcpu: CreditVcpu, commit: boolean): number {
    const topology = this.topology as TopologySpec;
    const all = Array.from({ length: this.options.pcpus }, (_, pcpu) => pcpu);
    const entity = vcpu.entity;
    const hard = all.filter((pcpu) => hardAllows(entity, pcpu));
    const soft = entity.affinity?.soft === undefined ? [] : all.filter((pcpu) => softStep(entity, pcpu));
    const steps = soft.length > 0 ? [soft, hard] : [hard];
    const queuedOn = (pcpu: number) => this.runqs[pcpu][0].size + this.runqs[pcpu][1].size + this.runqs[pcpu][2].size;
    const idle = (pcpu: number) => queuedOn(pcpu) === 0 && (this.running[pcpu] === null || this.running[pcpu]?.vcpu === vcpu);
    const picked = smtPick({ topology, master: vcpu.home, steps, idle, idleBias: this.idleBias });
    if (commit && picked.biasOwner >= 0) this.idleBias[picked.biasOwner] = picked.pcpu;
    return picked.pcpu;
  }

  /** csched_free_udata (sched_move_domain): the vCPU moved to another cpupool; off the active list and forgotten. */
  forget(entity: SchedEntity): void {
    const vcpu = this.vcpus.get(entity.key);
    if (vcpu === undefined) return;
    this.unqueue(vcpu);
    const vm = this.activeVms.find((candidate) => candidate.name === entity.vm);
    if (vcpu.active && vm !== undefined) this.deactivate(vm, vcpu);
    this.vcpus.delete(entity.key);
  }

  /** __csched_unit_acct_start: onto its VM's active list, the VM onto the head of the active VMs. Whether it was not active. */
  private activate(vcpu: CreditVcpu): boolean {
    if (vcpu.active) return false;
    vcpu.active = true;
    let vm = this.activeVms.find((candidate) => candidate.name === vcpu.entity.vm);
    if (vm === undefined) {
      vm = { name: vcpu.entity.vm, weight: vcpu.weight, capPercent: vcpu.capPercent, vcpus: [] };
      this.activeVms.unshift(vm);
    }
    vm.vcpus.unshift(vcpu);
    return true;
  }

  private sliceFor(vcpu: CreditVcpu): number {
    if (this.capEnforcement === 'period' && vcpu.capPercent > 0) return Math.max(1, Math.min(this.timesliceNs, vcpu.credit));
    return this.timesliceNs;
  }

  private insert(vcpu: CreditVcpu): void {
    if (vcpu.parked) return;
    this.runqs[vcpu.home][vcpu.priority].push(vcpu.entity);
    this.waitingByPriority[vcpu.priority]++;
    vcpu.queuedOn = vcpu.home;
    // With a topology no CPU steals from an idle CPU's queue, so that CPU must look at it.
    if (this.topology !== undefined && this.running[vcpu.home] === null) this.host?.wakeIdle(vcpu.home);
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
    let localBest: SchedEntity | undefined;
    for (let priority = 0; priority < PRIORITIES; priority++) {
      localBest = firstAllowed(local[priority], pcpu, hardAllows);
      if (localBest !== undefined) {
        localPriority = priority;
        break;
      }
    }
    if (localPriority <= Priority.UNDER) return this.state(localBest as SchedEntity);
    // csched_load_balance: look for better work on the other CPUs, nearest first; within a
    // priority, csched_runq_steal's balance steps: a vCPU whose soft affinity names this CPU,
    // then one whose hard affinity allows it (for_each_affinity_balance_step). Without affinity
    // both steps see the head of the queue, as before.
    const count = this.runqs.length;
    for (let priority = 0; priority < localPriority; priority++) {
      if (this.waitingByPriority[priority] === 0) continue;
      for (const allowed of [softStep, hardAllows]) {
        for (let step = 1; step < count; step++) {
          const peer = this.peersByNode === undefined ? (pcpu + step) % count : this.peersByNode[pcpu][step - 1];
          // csched_runq_steal: "Don't steal from an idle CPU's runq because it's about to pick up
          // work from it itself" (insert wakes it). With a topology only: without one, vmmsim's
          // earlier rule (an idle CPU's queue may be stolen from) keeps existing logs unchanged.
          if (this.topology !== undefined && this.running[peer] === null) continue;
          const found = firstAllowed(this.runqs[peer][priority], pcpu, allowed);
          if (found !== undefined) return this.state(found);
        }
      }
    }
    return localBest === undefined ? undefined : this.state(localBest);
  }

  /**
   * __runq_tickle: an idle CPU takes the waker (the monitor kicks idle CPUs). Otherwise only the
   * waker's own CPU (the one whose queue it joined) is a preemption target, and only if the vCPU
   * running there has a lower priority. Xen does not look for the least important vCPU on the
   * other CPUs; they find the waker by stealing when their own work is OVER.
   */
  private tickle(vcpu: CreditVcpu, now: number): void {
    const host = this.host;
    if (host === undefined) return;
    // With a topology the vCPU's CPU was chosen by the pick: if it is idle, it takes the vCPU
    // (__runq_tickle's first case), not the lowest-numbered idle CPU the monitor would kick.
    if (this.topology !== undefined && this.running[vcpu.home] === null) {
      host.wakeIdle(vcpu.home);
      return;
    }
    if (vcpu.entity.affinity === undefined) {
      for (const running of this.running) if (running === null) return;
    } else {
      // __runq_tickle's idlers, by balance step: an idle CPU of the soft affinity, then of the
      // hard affinity. An idle CPU the vCPU may not use is no reason to wait.
      for (const allowed of [softPrefers, hardAllows]) {
        for (let pcpu = 0; pcpu < this.running.length; pcpu++) {
          if (this.running[pcpu] === null && allowed(vcpu.entity, pcpu)) {
            host.wakeIdle(pcpu);
            return;
          }
        }
      }
    }
    const target = vcpu.home;
    const running = this.running[target] as Running;
    if (running.vcpu.priority <= vcpu.priority) return;
    // csched_schedule's rate limiting: the runner keeps the CPU until it has run `ratelimit`.
    const allowedAt = running.since + this.ratelimitNs;
    if (allowedAt <= now) {
      host.preempt(target);
      return;
    }
    if (allowedAt < this.preemptAt[target]) {
      this.preemptAt[target] = allowedAt;
      host.requestTick(allowedAt);
    }
  }

  /**
   * csched_acct: the slice's CPU time, slice × pCPUs (plus what the last accounting left
   * overdrawn), shared among the active VMs by weight. A VM gets at most its peak, its active
   * vCPUs' worth of one slice (credit_peak), lowered by its cap; what it cannot take goes to the
   * VMs after it in the list, and the VM moves to the list's head. Every active vCPU becomes
   * UNDER or OVER by the sign of its credit (BOOST ends here too).
   */
  private account(): void {
    const sliceNs = this.timesliceNs;
    const host = this.host as PolicyHost;
    let weightTotal = 0;
    for (const vm of this.activeVms) weightTotal += vm.weight * vm.vcpus.length;
    if (weightTotal === 0) {
      this.creditBalance = 0;
      return;
    }
    const previousBalance = this.creditBalance;
    let creditTotal = sliceNs * this.options.pcpus;
    if (previousBalance < 0) creditTotal -= previousBalance;
    let weightLeft = weightTotal;
    let balance = 0;
    let extra = false;
    const requeue: CreditVcpu[] = [];
    for (const vm of [...this.activeVms]) {
      const count = vm.vcpus.length;
      weightLeft -= vm.weight * count;
      let peak = count * sliceNs;
      if (previousBalance < 0) peak += Math.ceil((-previousBalance * vm.weight * count) / weightTotal);
      let capShare = 0;
      if (vm.capPercent > 0) {
        capShare = Math.ceil((vm.capPercent * sliceNs) / 100);
        if (capShare < peak) peak = capShare;
        capShare = Math.ceil(capShare / count);
      }
      let fair = Math.ceil((creditTotal * vm.weight * count) / weightTotal);
      if (fair < peak) {
        extra = true;
      } else {
        // Give the other VMs a chance at the credit this one cannot use.
        if (weightLeft !== 0) creditTotal += Math.ceil(((fair - peak) * weightTotal) / weightLeft);
        if (extra) this.activeVms.unshift(...this.activeVms.splice(this.activeVms.indexOf(vm), 1));
        fair = peak;
      }
      const perVcpu = Math.ceil(fair / count);
      for (const vcpu of [...vm.vcpus]) {
        // Out of its queue while its priority changes; back in below (csched_runq_sort).
        this.unqueue(vcpu);
        vcpu.credit += perVcpu;
        // period: no credit carried over, so no period can hold more than the cap's worth.
        if (this.capEnforcement === 'period' && vcpu.capPercent > 0 && vcpu.credit > capShare) vcpu.credit = capShare;
        if (vcpu.credit < 0) {
          vcpu.priority = Priority.OVER;
          if (vcpu.capPercent > 0 && (this.capEnforcement === 'period' || vcpu.credit < -capShare)) vcpu.parked = true;
          if (vcpu.credit < -sliceNs) vcpu.credit = -sliceNs;
        } else {
          vcpu.priority = Priority.UNDER;
          vcpu.parked = this.capEnforcement === 'period' && vcpu.capPercent > 0 && vcpu.credit === 0;
          if (vcpu.credit > sliceNs) {
            // It is not using its share: it stops earning until it is found running again.
            this.deactivate(vm, vcpu);
            vcpu.credit = Math.floor(vcpu.credit / 2);
          }
        }
        balance += vcpu.credit;
        if (vcpu.runnable) requeue.push(vcpu);
        else if (vcpu.parked && vcpu.runningOn >= 0) host.preempt(vcpu.runningOn);
      }
    }
    this.creditBalance = balance;
    for (const vcpu of requeue) this.insert(vcpu);
    for (let pcpu = 0, wake = this.waiting; pcpu < this.running.length && wake > 0; pcpu++) {
      if (this.running[pcpu] === null) {
        host.wakeIdle(pcpu);
        wake--;
      }
    }
  }

  /** __csched_unit_acct_stop_locked: off the active list; the VM too once it has none. */
  private deactivate(vm: ActiveVm, vcpu: CreditVcpu): void {
    vcpu.active = false;
    vm.vcpus.splice(vm.vcpus.indexOf(vcpu), 1);
    if (vm.vcpus.length === 0) this.activeVms.splice(this.activeVms.indexOf(vm), 1);
  }
}

/** The first entity of `queue` that `allowed` lets run on `pcpu` (the head when no entity has affinity). */
function firstAllowed(queue: EntityFifo, pcpu: number, allowed: (entity: SchedEntity, pcpu: number) => boolean): SchedEntity | undefined {
  const head = queue.peek();
  if (head === undefined || (head.affinity === undefined && allowed === hardAllows)) return head;
  for (const entity of queue) if (allowed(entity, pcpu)) return entity;
  return undefined;
}

/**
 * A vCPU's first CPU: key modulo the CPUs, or with affinity the first CPU from there on of its soft
 * affinity, else of its hard affinity (csched_cpu_pick's balance steps, without topology). With a
 * topology this is only where the SMT-aware pick starts from (Xen's sched_unit_master).
 */
function homeOf(entity: SchedEntity, pcpus: number): number {
  const start = entity.key % pcpus;
  if (entity.affinity === undefined) return start;
  for (const allowed of [softPrefers, hardAllows]) {
    for (let step = 0; step < pcpus; step++) if (allowed(entity, (start + step) % pcpus)) return (start + step) % pcpus;
  }
  return start;
}
