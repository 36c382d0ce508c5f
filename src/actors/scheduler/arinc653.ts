/**
 * ARINC 653 partition scheduling, as Xen's arinc653 scheduler does it
 * (xen/common/sched/arinc653.c; ARINC Specification 653, "Avionics Application Software Standard
 * Interface"): a static major frame, repeated for ever, made of time slots (minor frames), each
 * owned by one VM (a partition) or idle. During a slot only the owner's vCPUs run; when the slot
 * ends they are preempted at that instant, whatever they are doing. Time a partition does not use
 * is not given to anyone else.
 *
 * The frame comes from `scheduler.frame` (default: one slot of `quantum` per VM, in order).
 * Within a slot the owner's runnable vCPUs share the physical CPUs round-robin with the quantum.
 */
import { EntityFifo } from './fifo.js';
import type { Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

interface Slot {
  readonly vm: string | null;
  readonly durationNs: number;
}

export class Arinc653Policy implements SchedulingPolicy {
  readonly name: string = 'arinc653';
  private readonly frame: readonly Slot[];
  private readonly majorFrameNs: number;
  private readonly queues = new Map<string, EntityFifo>();
  private readonly running: (SchedEntity | null)[] = [];
  private slot = 0;
  private slotStart = 0;
  private slotEnd: number;
  private host: PolicyHost | undefined;
  private count = 0;

  constructor(private readonly options: PolicyOptions) {
    const frame = options.scheduler?.frame ?? (options.vms ?? []).map((vm) => ({ vm: vm.name, durationNs: options.quantumNs }));
    if (frame.length === 0) throw new RangeError('arinc653 needs a frame of at least one slot');
    this.frame = frame;
    this.majorFrameNs = frame.reduce((sum, slot) => sum + slot.durationNs, 0);
    this.slotEnd = frame[0].durationNs;
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) this.running.push(null);
  }

  get waiting(): number {
    return this.count;
  }

  /** The VM owning the slot at virtual time `time` (for checks: the frame is a pure function of time). */
  ownerAt(time: number): string | null {
    let offset = time % this.majorFrameNs;
    for (const slot of this.frame) {
      if (offset < slot.durationNs) return slot.vm;
      offset -= slot.durationNs;
    }
    return null;
  }

  attach(host: PolicyHost): void {
    this.host = host;
    host.requestTick(this.slotEnd);
  }

  private queueOf(vm: string): EntityFifo {
    let queue = this.queues.get(vm);
    if (queue === undefined) {
      queue = new EntityFifo();
      this.queues.set(vm, queue);
    }
    return queue;
  }

  enqueue(entity: SchedEntity): void {
    const queue = this.queueOf(entity.vm);
    if (queue.has(entity.key)) return;
    queue.push(entity);
    this.count++;
    if (entity.vm === this.frame[this.slot].vm) this.wakeIdle();
  }

  remove(entity: SchedEntity): void {
    if (this.queueOf(entity.vm).remove(entity.key)) this.count--;
  }

  pick(pcpu: number, now: number): Pick | undefined {
    const owner = this.frame[this.slot].vm;
    if (owner === null || now >= this.slotEnd) return undefined;
    const entity = this.queueOf(owner).shift();
    if (entity === undefined) return undefined;
    this.count--;
    this.running[pcpu] = entity;
    return { entity, sliceNs: Math.min(this.options.quantumNs, this.slotEnd - now) };
  }

  shouldPreempt(_pcpu: number, current: SchedEntity, now: number): boolean {
    if (current.vm !== this.frame[this.slot].vm || now >= this.slotEnd) return true;
    return this.queueOf(current.vm).size > 0;
  }

  extend(_pcpu: number, _current: SchedEntity, now: number): number {
    return Math.max(1, Math.min(this.options.quantumNs, this.slotEnd - now));
  }

  charge(): void {}

  leave(pcpu: number): void {
    this.running[pcpu] = null;
  }

  /** A slot boundary: the next slot's owner takes the CPUs at this instant. */
  tick(now: number): void {
    const host = this.host as PolicyHost;
    while (now >= this.slotEnd) {
      this.slot = (this.slot + 1) % this.frame.length;
      this.slotStart = this.slotEnd;
      this.slotEnd = this.slotStart + this.frame[this.slot].durationNs;
    }
    const owner = this.frame[this.slot].vm;
    for (let pcpu = 0; pcpu < this.running.length; pcpu++) {
      const running = this.running[pcpu];
      if (running !== null && running.vm !== owner) host.preempt(pcpu);
    }
    this.wakeIdle();
    host.requestTick(this.slotEnd);
  }

  snapshot(): unknown {
    return { policy: this.name, slot: this.slot, slotStart: this.slotStart, slotEnd: this.slotEnd, owner: this.frame[this.slot].vm };
  }

  private wakeIdle(): void {
    const host = this.host;
    if (host === undefined) return;
    for (let pcpu = 0; pcpu < this.running.length; pcpu++) if (this.running[pcpu] === null) host.wakeIdle(pcpu);
  }
}
