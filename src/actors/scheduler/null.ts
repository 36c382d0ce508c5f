/**
 * Xen's null scheduler (xen/common/sched/null.c): every vCPU is assigned one physical CPU for
 * good and nothing else ever runs there, so there is no scheduling decision at all (static
 * partitioning, for embedded and real-time systems that want no scheduler jitter).
 *
 * - A vCPU is assigned when it first becomes runnable: to its VM's `sched.pcpu` if given (a VM
 *   with several vCPUs takes consecutive CPUs from there), else to the lowest free CPU.
 * - With more vCPUs than CPUs, the extra vCPUs wait, in order, until a CPU has nobody assigned
 *   (Xen's waitqueue). An assignment lasts the whole run, also while the vCPU is blocked or halted.
 * - A vCPU runs until it blocks: no slice, no preemption.
 */
import { EntityFifo } from './fifo.js';
import type { Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

/** Slices are cut only so the monitor's arithmetic stays small; shouldPreempt never says yes. */
const NULL_SLICE_NS = 1_000_000_000;

export class NullPolicy implements SchedulingPolicy {
  readonly name: string = 'null';
  /** The vCPU assigned to each physical CPU. */
  private readonly assigned: (SchedEntity | null)[] = [];
  private readonly pcpuOf = new Map<number, number>();
  /** Runnable, assigned, not running: per CPU. */
  private readonly ready: boolean[] = [];
  private readonly waitqueue = new EntityFifo();
  private readyCount = 0;
  private host: PolicyHost | undefined;

  constructor(options: PolicyOptions) {
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) {
      this.assigned.push(null);
      this.ready.push(false);
    }
  }

  get waiting(): number {
    return this.readyCount + this.waitqueue.size;
  }

  attach(host: PolicyHost): void {
    this.host = host;
  }

  /** Which CPU each vCPU is pinned to (for checks and reports). */
  assignments(): Record<string, number> {
    const out: Record<string, number> = {};
    this.assigned.forEach((entity, pcpu) => {
      if (entity !== null) out[entity.id] = pcpu;
    });
    return out;
  }

  enqueue(entity: SchedEntity): void {
    let pcpu = this.pcpuOf.get(entity.key);
    if (pcpu === undefined) pcpu = this.assign(entity);
    if (pcpu === undefined) {
      this.waitqueue.push(entity);
      return;
    }
    if (this.ready[pcpu]) return;
    this.ready[pcpu] = true;
    this.readyCount++;
    this.host?.wakeIdle(pcpu);
  }

  remove(entity: SchedEntity): void {
    if (this.waitqueue.remove(entity.key)) return;
    const pcpu = this.pcpuOf.get(entity.key);
    if (pcpu !== undefined && this.ready[pcpu]) {
      this.ready[pcpu] = false;
      this.readyCount--;
    }
  }

  /** null_unit_remove (sched_move_domain): the vCPU moved to another cpupool; its CPU is free for the first waiting vCPU. */
  forget(entity: SchedEntity): void {
    this.remove(entity);
    const pcpu = this.pcpuOf.get(entity.key);
    if (pcpu === undefined) return;
    this.pcpuOf.delete(entity.key);
    this.assigned[pcpu] = null;
    if (this.waitqueue.size > 0) this.host?.wakeIdle(pcpu);
  }

  pick(pcpu: number): Pick | undefined {
    if (this.assigned[pcpu] === null) {
      const next = this.waitqueue.shift();
      if (next === undefined) return undefined;
      this.bind(next, pcpu);
      return { entity: next, sliceNs: NULL_SLICE_NS };
    }
    if (!this.ready[pcpu]) return undefined;
    this.ready[pcpu] = false;
    this.readyCount--;
    return { entity: this.assigned[pcpu] as SchedEntity, sliceNs: NULL_SLICE_NS };
  }

  shouldPreempt(): boolean {
    return false;
  }

  extend(): number {
    return NULL_SLICE_NS;
  }

  charge(): void {}

  snapshot(): unknown {
    return { policy: this.name, assigned: this.assigned.map((entity) => entity?.id ?? null), waitqueue: this.waitqueue.ids() };
  }

  private assign(entity: SchedEntity): number | undefined {
    const wanted = entity.params.pcpu;
    const count = this.assigned.length;
    if (wanted !== undefined && wanted >= 0) {
      const pcpu = (wanted + (entity.index ?? 0)) % count;
      if (this.assigned[pcpu] === null) return this.bind(entity, pcpu);
    }
    for (let pcpu = 0; pcpu < count; pcpu++) if (this.assigned[pcpu] === null) return this.bind(entity, pcpu);
    return undefined;
  }

  private bind(entity: SchedEntity, pcpu: number): number {
    this.assigned[pcpu] = entity;
    this.pcpuOf.set(entity.key, pcpu);
    return pcpu;
  }
}
