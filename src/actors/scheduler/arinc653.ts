/**
 * ARINC 653 partition scheduling, as Xen's arinc653 scheduler does it
 * (xen/common/sched/arinc653.c; ARINC Specification 653, "Avionics Application Software Standard
 * Interface"): a static major frame, repeated for ever, made of time slots (minor frames). Each
 * slot names one vCPU of one VM (Xen's schedule entries: domain handle, unit id, runtime) or is
 * idle. During a slot only that vCPU runs, and only on its own CPU (a653sched_do_schedule refuses
 * a unit whose processor is another CPU; a653sched_pick_resource puts every unit on the first CPU
 * of the pool): here the VM's `sched.pcpu`, else CPU 0. When the slot ends it is preempted at
 * that instant, whatever it is doing. Time a slot's vCPU does not use is not given to anyone.
 *
 * The frame comes from `scheduler.frame` (default: one slot of `quantum` per vCPU, VM by VM).
 */
import type { Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

interface Slot {
  readonly vm: string | null;
  readonly vcpu?: number;
  readonly durationNs: number;
}

export class Arinc653Policy implements SchedulingPolicy {
  readonly name: string = 'arinc653';
  private readonly frame: readonly Slot[];
  private readonly majorFrameNs: number;
  /** Runnable vCPUs waiting, by `vm/index`. */
  private readonly runnable = new Map<string, SchedEntity>();
  private readonly running: (SchedEntity | null)[] = [];
  private slot = 0;
  private slotStart = 0;
  private slotEnd: number;
  private host: PolicyHost | undefined;

  constructor(options: PolicyOptions) {
    const frame = options.scheduler?.frame ?? (options.vms ?? []).flatMap((vm) => Array.from({ length: vm.vcpus }, (_, vcpu) => ({ vm: vm.name, vcpu, durationNs: options.quantumNs })));
    if (frame.length === 0) throw new RangeError('arinc653 needs a frame of at least one slot');
    this.frame = frame;
    this.majorFrameNs = frame.reduce((sum, slot) => sum + slot.durationNs, 0);
    this.slotEnd = frame[0].durationNs;
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) this.running.push(null);
  }

  get waiting(): number {
    return this.runnable.size;
  }

  /** The VM owning the slot at virtual time `time` (for checks: the frame is a pure function of time). */
  ownerAt(time: number): string | null {
    return this.slotAt(time).vm;
  }

  /** The slot at virtual time `time`. */
  slotAt(time: number): Slot {
    let offset = time % this.majorFrameNs;
    for (const slot of this.frame) {
      if (offset < slot.durationNs) return slot;
      offset -= slot.durationNs;
    }
    return this.frame[this.frame.length - 1];
  }

  attach(host: PolicyHost): void {
    this.host = host;
    // Built in the middle of a run (a fork): the frame is a pure function of time, so it starts
    // at the slot of now.
    this.advanceTo(host.now);
    host.requestTick(this.slotEnd);
  }

  enqueue(entity: SchedEntity): void {
    this.runnable.set(nameOf(entity), entity);
    if (this.owns(entity)) this.host?.wakeIdle(cpuOf(entity));
  }

  remove(entity: SchedEntity): void {
    this.runnable.delete(nameOf(entity));
  }

  pick(pcpu: number, now: number): Pick | undefined {
    const slot = this.frame[this.slot];
    if (slot.vm === null || now >= this.slotEnd) return undefined;
    const entity = this.runnable.get(`${slot.vm}/${slot.vcpu ?? 0}`);
    if (entity === undefined || cpuOf(entity) !== pcpu) return undefined;
    this.runnable.delete(nameOf(entity));
    this.running[pcpu] = entity;
    return { entity, sliceNs: this.slotEnd - now };
  }

  shouldPreempt(_pcpu: number, current: SchedEntity, now: number): boolean {
    return !this.owns(current) || now >= this.slotEnd;
  }

  extend(_pcpu: number, _current: SchedEntity, now: number): number {
    return Math.max(1, this.slotEnd - now);
  }

  charge(): void {}

  leave(pcpu: number): void {
    this.running[pcpu] = null;
  }

  /** Moves the current slot on to the one that holds `now`. */
  private advanceTo(now: number): void {
    while (now >= this.slotEnd) {
      this.slot = (this.slot + 1) % this.frame.length;
      this.slotStart = this.slotEnd;
      this.slotEnd = this.slotStart + this.frame[this.slot].durationNs;
    }
  }

  /** A slot boundary: the next slot's vCPU takes its CPU at this instant. */
  tick(now: number): void {
    const host = this.host as PolicyHost;
    this.advanceTo(now);
    for (let pcpu = 0; pcpu < this.running.length; pcpu++) {
      const running = this.running[pcpu];
      if (running !== null && !this.owns(running)) host.preempt(pcpu);
    }
    const slot = this.frame[this.slot];
    const next = slot.vm === null ? undefined : this.runnable.get(`${slot.vm}/${slot.vcpu ?? 0}`);
    if (next !== undefined) host.wakeIdle(cpuOf(next));
    host.requestTick(this.slotEnd);
  }

  snapshot(): unknown {
    const slot = this.frame[this.slot];
    return { policy: this.name, slot: this.slot, slotStart: this.slotStart, slotEnd: this.slotEnd, owner: slot.vm, vcpu: slot.vcpu ?? 0 };
  }

  private owns(entity: SchedEntity): boolean {
    const slot = this.frame[this.slot];
    return slot.vm === entity.vm && (slot.vcpu ?? 0) === (entity.index ?? 0);
  }
}

function nameOf(entity: SchedEntity): string {
  return `${entity.vm}/${entity.index ?? 0}`;
}

/** The one CPU a vCPU runs on under arinc653: its VM's sched.pcpu, else the pool's first CPU. */
function cpuOf(entity: SchedEntity): number {
  const pcpu = entity.params.pcpu;
  return pcpu !== undefined && pcpu >= 0 ? pcpu : 0;
}
