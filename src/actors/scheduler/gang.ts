/**
 * Gang scheduling (co-scheduling) for SMP VMs, after Ousterhout's coscheduling (ICDCS 1982) and
 * the co-scheduling of VMware ESX ("The CPU Scheduler in VMware vSphere", 2013): all vCPUs of a
 * VM run at the same time or none does, so a vCPU spinning on a lock never waits for a sibling
 * that the hypervisor has descheduled (lock-holder preemption).
 *
 * Time is cut into slices of `quantum`. At each slice boundary the VMs with work take the
 * physical CPUs in round-robin order, each VM taking one CPU per vCPU, as many VMs as fit
 * (a VM with more vCPUs than the host has CPUs runs its first vCPUs only). A CPU whose vCPU is
 * blocked stays idle for the slice: it is not lent to another VM (strict co-scheduling).
 */
import type { Pick, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';

interface GangVm {
  readonly name: string;
  readonly vcpus: number;
  /** Entities by vCPU index, filled as they first become runnable. */
  readonly entities: (SchedEntity | undefined)[];
  /** Runnable and not running, by vCPU index. */
  readonly ready: boolean[];
  readyCount: number;
  runningCount: number;
}

export class GangPolicy implements SchedulingPolicy {
  readonly name: string = 'gang';
  private readonly vms: GangVm[] = [];
  private readonly vmByName = new Map<string, GangVm>();
  /** The vCPU planned for each physical CPU in this slice (vm index and vCPU index), or null. */
  private readonly plan: ({ vm: GangVm; index: number } | null)[] = [];
  private readonly running: (SchedEntity | null)[] = [];
  private next = 0;
  private sliceEnd = 0;
  private ticking = false;
  private count = 0;
  private host: PolicyHost | undefined;

  constructor(private readonly options: PolicyOptions) {
    for (const vm of options.vms ?? []) this.addVm(vm.name, vm.vcpus);
    for (let pcpu = 0; pcpu < options.pcpus; pcpu++) {
      this.plan.push(null);
      this.running.push(null);
    }
  }

  get waiting(): number {
    return this.count;
  }

  attach(host: PolicyHost): void {
    this.host = host;
  }

  private addVm(name: string, vcpus: number): GangVm {
    const vm: GangVm = { name, vcpus, entities: new Array(vcpus).fill(undefined), ready: new Array(vcpus).fill(false), readyCount: 0, runningCount: 0 };
    this.vms.push(vm);
    this.vmByName.set(name, vm);
    return vm;
  }

  private vmOf(entity: SchedEntity): GangVm {
    let vm = this.vmByName.get(entity.vm);
    if (vm === undefined) vm = this.addVm(entity.vm, Math.max(1, (entity.index ?? 0) + 1));
    const index = entity.index ?? 0;
    if (index >= vm.entities.length) throw new RangeError(`gang: ${entity.id} beyond the VM's ${vm.vcpus} vCPUs`);
    vm.entities[index] = entity;
    return vm;
  }

  enqueue(entity: SchedEntity, now: number): void {
    const vm = this.vmOf(entity);
    const index = entity.index ?? 0;
    if (vm.ready[index]) return;
    vm.ready[index] = true;
    vm.readyCount++;
    this.count++;
    const host = this.host;
    if (host === undefined) return;
    if (!this.ticking) {
      this.ticking = true;
      this.replan(now);
      return;
    }
    const pcpu = this.plan.findIndex((slot) => slot !== null && slot.vm === vm && slot.index === index);
    if (pcpu >= 0) host.wakeIdle(pcpu);
  }

  remove(entity: SchedEntity): void {
    const vm = this.vmOf(entity);
    const index = entity.index ?? 0;
    if (!vm.ready[index]) return;
    vm.ready[index] = false;
    vm.readyCount--;
    this.count--;
  }

  pick(pcpu: number, now: number): Pick | undefined {
    const slot = this.plan[pcpu];
    if (slot === null || !slot.vm.ready[slot.index] || now >= this.sliceEnd) return undefined;
    const entity = slot.vm.entities[slot.index] as SchedEntity;
    slot.vm.ready[slot.index] = false;
    slot.vm.readyCount--;
    slot.vm.runningCount++;
    this.count--;
    this.running[pcpu] = entity;
    return { entity, sliceNs: this.sliceEnd - now };
  }

  shouldPreempt(pcpu: number, current: SchedEntity, now: number): boolean {
    const slot = this.plan[pcpu];
    return now >= this.sliceEnd || slot === null || slot.vm.name !== current.vm || slot.index !== (current.index ?? 0);
  }

  extend(_pcpu: number, _current: SchedEntity, now: number): number {
    return Math.max(1, this.sliceEnd - now);
  }

  charge(): void {}

  leave(pcpu: number): void {
    const entity = this.running[pcpu];
    if (entity !== null) {
      const vm = this.vmByName.get(entity.vm);
      if (vm !== undefined) vm.runningCount--;
    }
    this.running[pcpu] = null;
  }

  tick(now: number): void {
    this.replan(now);
  }

  snapshot(): unknown {
    return {
      policy: this.name,
      sliceEnd: this.sliceEnd,
      plan: this.plan.map((slot) => (slot === null ? null : `vm/${slot.vm.name}/vcpu/${slot.index}`)),
    };
  }

  /** A slice boundary: choose the gangs, preempt whoever is not in the plan, wake the planned. */
  private replan(now: number): void {
    const host = this.host as PolicyHost;
    const pcpus = this.plan.length;
    this.plan.fill(null);
    let free = pcpus;
    let placed = 0;
    const total = this.vms.length;
    let cursor = this.next;
    for (let step = 0; step < total && free > 0; step++) {
      const vm = this.vms[(this.next + step) % total];
      if (vm.readyCount + vm.runningCount === 0) continue;
      const width = Math.min(vm.vcpus, pcpus);
      if (width > free) continue;
      for (let index = 0; index < width; index++) this.plan[pcpus - free + index] = { vm, index };
      free -= width;
      // The next slice starts its round after the first VM placed in this one.
      if (placed === 0) cursor = (this.next + step + 1) % total;
      placed++;
    }
    this.next = cursor;
    if (placed === 0) {
      this.ticking = false;
      this.sliceEnd = now;
      return;
    }
    this.sliceEnd = now + this.options.quantumNs;
    // A vCPU that keeps running keeps its CPU if the plan puts it elsewhere: swap the plan.
    for (let pcpu = 0; pcpu < pcpus; pcpu++) {
      const running = this.running[pcpu];
      if (running === null) continue;
      const planned = this.plan.findIndex((slot) => slot !== null && slot.vm.name === running.vm && slot.index === (running.index ?? 0));
      if (planned >= 0 && planned !== pcpu) [this.plan[pcpu], this.plan[planned]] = [this.plan[planned], this.plan[pcpu]];
    }
    for (let pcpu = 0; pcpu < pcpus; pcpu++) {
      const running = this.running[pcpu];
      const slot = this.plan[pcpu];
      if (running !== null && (slot === null || slot.vm.name !== running.vm || slot.index !== (running.index ?? 0))) host.preempt(pcpu);
      else if (running === null && slot !== null && slot.vm.ready[slot.index]) host.wakeIdle(pcpu);
    }
    host.requestTick(this.sliceEnd);
  }
}
