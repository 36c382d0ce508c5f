/**
 * Type 2: the monitor and its vCPUs are processes of a host OS. Every device access goes to the
 * host and back (two world switches and a system call), a vCPU blocked in hlt is a host thread
 * the host scheduler wakes later (interrupts.ts), and the host's own processes take `host.load`
 * of each physical CPU every `hostTickNs`, preempting the vCPU there.
 *
 * With several hosts each has its own type (MonitorOptions.hostTypes): what a VM pays is decided
 * by the host it is on now (a migration changes it), the host's processes run on the CPUs of the
 * Type 2 hosts alone, each with its host's load.
 */
import { Entry, PCPU_BITS, type MonitorCore, type MonitorOptions, type Pcpu } from './core.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import type { Vm } from '../vm.js';

/** Whether a VM runs on a Type 2 host now. */
export function hostedVm(options: MonitorOptions, vm: Vm): boolean {
  const types = options.hostTypes;
  return types === undefined ? options.hostType === 'type2' : types.typeOfVm(vm) === 'type2';
}

export class HostOs {
  /** Until when the host's own processes hold each physical CPU. */
  private readonly busy: number[] = [];

  constructor(private readonly core: MonitorCore) {}

  /** What a device access of `vm` costs on top of its emulation: to the host OS and back, and a system call. */
  ioNs(vm: Vm): number {
    const costs = this.core.costs;
    return hostedVm(this.core.options, vm) ? 2 * costs.hostSwitchNs + costs.hostSyscallNs : 0;
  }

  /** Until when the host's processes hold a physical CPU (0: they do not). */
  busyUntil(pcpu: number): number {
    return this.busy[pcpu] ?? 0;
  }

  /** The share of a physical CPU its host's processes take (0 on a Type 1 host). */
  private loadOf(pcpu: number): number {
    const options = this.core.options;
    const types = options.hostTypes;
    if (types === undefined) return options.hostType === 'type2' ? (options.hostLoad ?? 0) : 0;
    return types.typeOfPcpu[pcpu] === 'type2' ? types.loadOfPcpu[pcpu] : 0;
  }

  /**
   * Starts the host's processes' ticks on the CPUs of Type 2 hosts with a load, staggered across
   * those CPUs in CPU order. With one host, or hosts all of one type and load, those are every CPU
   * of the machine, as before hosts had types; with one loaded Type 2 host among Type 1 hosts,
   * that host's CPUs, staggered as in a run of that host alone.
   */
  start(): void {
    const core = this.core;
    const loaded = core.pcpus.filter((pcpu) => this.loadOf(pcpu.index) > 0);
    const tick = core.costs.hostTickNs;
    loaded.forEach((pcpu, rank) => {
      core.kernel.schedule(Math.floor((tick * (rank + 1)) / loaded.length), core.target, Entry.HOST_TICK, pcpu.index);
    });
  }

  /** A host tick on one CPU: the host's processes run for their share, the vCPU there waits. */
  tick(pcpu: Pcpu): void {
    const core = this.core;
    const kernel = core.kernel;
    const now = kernel.now;
    const tick = core.costs.hostTickNs;
    const burst = Math.floor(this.loadOf(pcpu.index) * tick);
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
