/**
 * Type 2: the monitor and its vCPUs are processes of a host OS. Every device access goes to the
 * host and back (two world switches and a system call), a vCPU blocked in hlt is a host thread
 * the host scheduler wakes later (interrupts.ts), and the host's own processes take `host.load`
 * of each physical CPU every `hostTickNs`, preempting the vCPU there.
 */
import { Entry, PCPU_BITS, type MonitorCore, type Pcpu } from './core.js';
import type { Vcpu } from '../vcpu/vcpu.js';

export class HostOs {
  /** Until when the host's own processes hold each physical CPU. */
  private readonly busy: number[] = [];

  constructor(private readonly core: MonitorCore) {}

  get hosted(): boolean {
    return this.core.options.hostType === 'type2';
  }

  /** What a device access costs on top of its emulation: to the host OS and back, and a system call. */
  ioNs(): number {
    const costs = this.core.costs;
    return this.hosted ? 2 * costs.hostSwitchNs + costs.hostSyscallNs : 0;
  }

  /** Until when the host's processes hold a physical CPU (0: they do not). */
  busyUntil(pcpu: number): number {
    return this.busy[pcpu] ?? 0;
  }

  /** Starts the host's processes' ticks (Type 2 with host.load > 0), staggered across CPUs. */
  start(): void {
    const core = this.core;
    const load = core.options.hostLoad ?? 0;
    if (!this.hosted || load <= 0) return;
    const tick = core.costs.hostTickNs;
    for (const pcpu of core.pcpus) {
      core.kernel.schedule(Math.floor((tick * (pcpu.index + 1)) / core.pcpus.length), core.target, Entry.HOST_TICK, pcpu.index);
    }
  }

  /** A host tick on one CPU: the host's processes run for their share, the vCPU there waits. */
  tick(pcpu: Pcpu): void {
    const core = this.core;
    const kernel = core.kernel;
    const now = kernel.now;
    const tick = core.costs.hostTickNs;
    const burst = Math.floor((core.options.hostLoad ?? 0) * tick);
    kernel.schedule(now + tick, core.target, Entry.HOST_TICK, pcpu.index);
    if (burst <= 0) return;
    this.busy[pcpu.index] = now + burst;
    const host = core.options.pcpuHosts?.[pcpu.index];
    core.bus.publish(`pcpu/${pcpu.index}`, 'host.process', host === undefined ? { pcpu: pcpu.index, ns: burst } : { pcpu: pcpu.index, ns: burst, host });
    const vcpu = pcpu.current;
    if (vcpu === null) return;
    core.endBatchNow(pcpu, vcpu);
    vcpu.publishPreempt(pcpu.index, now - pcpu.sliceStart, true);
  }

  /** A vCPU the host's process preempted (exit.preempt, by: host): its CPU is the process's until the burst ends. */
  preempted(pcpu: Pcpu, vcpu: Vcpu): void {
    if (pcpu.current !== vcpu) return;
    pcpu.current = null;
    pcpu.generation++;
    pcpu.dispatchPending = true;
    this.core.kernel.scheduleSoft(this.busy[pcpu.index], this.core.target, Entry.DISPATCH, pcpu.generation * PCPU_BITS + pcpu.index);
  }
}
