/**
 * A CFS/EEVDF-like fair scheduler, after Linux's kernel/sched/fair.c and
 * Documentation/scheduler/sched-design-CFS.rst (sched-eevdf.rst for EEVDF).
 *
 * - Every vCPU has a virtual runtime: the CPU time it received divided by its weight (scaled
 *   so that the default weight 256 counts real time). The runnable vCPU with the least virtual
 *   runtime runs next (the leftmost of the red-black tree; here a binary heap).
 * - The slice is the latency target (6 ms, sched_latency) shared in proportion to weight among
 *   the runnable vCPUs, never less than the minimum granularity (0.75 ms); with more vCPUs than
 *   latency / granularity the period stretches (nr × granularity).
 * - A waking vCPU's virtual runtime is raised to at least min_vruntime - latency / 2 (sleeper
 *   credit, GENTLE_FAIR_SLEEPERS), so sleeping does not bank unlimited credit; it preempts the
 *   running vCPU whose virtual runtime exceeds its own by more than the wake-up granularity
 *   (1 ms scaled by weight; EEVDF's eligibility plays the same part).
 * - One run queue shared by all physical CPUs (Linux has one per CPU plus load balancing; a
 *   single queue is the ideal those balance towards).
 * - What counts as running is `scheduler.charge` (charging.ts): by default all the time the vCPU
 *   holds the CPU, as update_curr charges everything since exec_start.
 */
import type { ChargeMode, SchedulerSpec } from '../../core/scenario/schema.js';
import { chargeable, settle, type Meter } from './charging.js';
import { EntityHeap } from './heap.js';
import type { EnqueueReason, Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

const NICE_0_WEIGHT = 256;
const WAKEUP_GRANULARITY_NS = 1_000_000;

interface CfsVcpu extends Meter {
  readonly entity: SchedEntity;
  readonly weight: number;
  /** Virtual runtime, in weighted ns (fractions kept). */
  vruntime: number;
  runningOn: number;
}

export class CfsPolicy implements SchedulingPolicy {
  readonly name: string = 'cfs';
  private readonly latencyNs: number;
  private readonly minGranularityNs: number;
  private readonly chargeMode: ChargeMode;
  private readonly queue = new EntityHeap();
  private readonly vcpus = new Map<number, CfsVcpu>();
  private readonly running: (CfsVcpu | null)[] = [];
  private queuedWeight = 0;
  private minVruntime = 0;
  private host: PolicyHost | undefined;

  constructor(options: PolicyOptions) {
    const scheduler: Partial<SchedulerSpec> = options.scheduler ?? {};
    this.latencyNs = scheduler.latencyNs ?? 6_000_000;
    this.minGranularityNs = scheduler.minGranularityNs ?? 750_000;
    this.chargeMode = scheduler.charge ?? 'held';
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) this.running.push(null);
  }

  get waiting(): number {
    return this.queue.size;
  }

  attach(host: PolicyHost): void {
    this.host = host;
  }

  private state(entity: SchedEntity): CfsVcpu {
    let vcpu = this.vcpus.get(entity.key);
    if (vcpu === undefined) {
      vcpu = { entity, weight: entity.params.weight ?? NICE_0_WEIGHT, vruntime: this.minVruntime, runningOn: -1, startTime: 0 };
      this.vcpus.set(entity.key, vcpu);
    }
    return vcpu;
  }

  enqueue(entity: SchedEntity, _now: number, reason: EnqueueReason = 'wake'): void {
    const vcpu = this.state(entity);
    if (this.queue.has(entity.key)) return;
    if (reason === 'wake' || reason === 'start' || reason === 'resume') {
      vcpu.vruntime = Math.max(vcpu.vruntime, this.minVruntime - this.latencyNs / 2);
    }
    this.queue.set(entity, vcpu.vruntime);
    this.queuedWeight += vcpu.weight;
    if (reason === 'wake') this.wakePreempt(vcpu);
  }

  remove(entity: SchedEntity): void {
    const vcpu = this.vcpus.get(entity.key);
    if (vcpu !== undefined && this.queue.remove(entity.key)) this.queuedWeight -= vcpu.weight;
  }

  pick(pcpu: number, now: number): Pick | undefined {
    const entity = this.queue.pop();
    if (entity === undefined) return undefined;
    const vcpu = this.state(entity);
    vcpu.startTime = now;
    this.queuedWeight -= vcpu.weight;
    vcpu.runningOn = pcpu;
    this.running[pcpu] = vcpu;
    this.updateMin();
    return { entity, sliceNs: this.sliceFor(vcpu) };
  }

  shouldPreempt(_pcpu: number, current: SchedEntity): boolean {
    if (this.queue.size === 0) return false;
    return this.queue.peekRank() < this.state(current).vruntime;
  }

  extend(_pcpu: number, current: SchedEntity): number {
    return this.sliceFor(this.state(current));
  }

  charge(entity: SchedEntity, ranNs: number, now: number): void {
    const vcpu = this.state(entity);
    this.advance(vcpu, vcpu.runningOn >= 0 ? chargeable(this.chargeMode, vcpu, ranNs, now) : ranNs);
  }

  private advance(vcpu: CfsVcpu, ns: number): void {
    if (ns <= 0) return;
    vcpu.vruntime += (ns * NICE_0_WEIGHT) / vcpu.weight;
    this.updateMin();
  }

  leave(pcpu: number, _entity: SchedEntity, now: number): void {
    const vcpu = this.running[pcpu];
    if (vcpu !== null) {
      if (this.chargeMode === 'held') this.advance(vcpu, settle(vcpu, now));
      vcpu.runningOn = -1;
    }
    this.running[pcpu] = null;
  }

  snapshot(): unknown {
    return {
      policy: this.name,
      minVruntime: this.minVruntime,
      runQueue: this.queue.sorted().map((item) => ({ id: item.entity.id, vruntime: item.rank })),
    };
  }

  private sliceFor(vcpu: CfsVcpu): number {
    let runningWeight = 0;
    let nr = this.queue.size;
    for (const other of this.running) {
      if (other !== null) {
        runningWeight += other.weight;
        nr++;
      }
    }
    const totalWeight = this.queuedWeight + runningWeight;
    const periodNs = nr > this.latencyNs / this.minGranularityNs ? nr * this.minGranularityNs : this.latencyNs;
    const share = totalWeight > 0 ? Math.floor((periodNs * vcpu.weight) / totalWeight) : periodNs;
    return Math.max(this.minGranularityNs, share);
  }

  /** min_vruntime only moves forward: the least of the running and the leftmost queued. */
  private updateMin(): void {
    let least = this.queue.peekRank();
    for (const vcpu of this.running) if (vcpu !== null && vcpu.vruntime < least) least = vcpu.vruntime;
    if (least !== Number.POSITIVE_INFINITY && least > this.minVruntime) this.minVruntime = least;
  }

  /** check_preempt_wakeup: preempt the running vCPU furthest ahead, if ahead by more than the granularity. */
  private wakePreempt(vcpu: CfsVcpu): void {
    const host = this.host;
    if (host === undefined) return;
    let target = -1;
    let worst = vcpu.vruntime + (WAKEUP_GRANULARITY_NS * NICE_0_WEIGHT) / vcpu.weight;
    for (let pcpu = 0; pcpu < this.running.length; pcpu++) {
      const running = this.running[pcpu];
      if (running === null) return; // An idle CPU takes it.
      if (running.vruntime > worst) {
        worst = running.vruntime;
        target = pcpu;
      }
    }
    if (target >= 0) host.preempt(target);
  }
}
