/**
 * What the monitor's parts share. The monitor (monitor.ts) owns the physical CPUs' time line and
 * implements MonitorCore; its parts get it and call back through it:
 *
 *   exits.ts                 the exit handlers (I/O, MMIO, hlt, hypercalls, privileged
 *                            instructions, exceptions) and what the CPU handles without an exit
 *   interrupts.ts            interrupt delivery: injection at entry, external-interrupt exits,
 *                            posted interrupts, inter-processor interrupts, waking from hlt
 *   memoryVirtualization.ts  guest paging: TLB fills, shadow and nested paging, the guest's page
 *                            faults, the host's (sharing, overcommit)
 *   hostOs.ts                Type 2: the host OS's processes and the cost of going through it
 *   passthrough.ts           device accesses that do not exit
 *   hostMemory.ts            the host's memory manager (page sharing, overcommit)
 */
import type { Backend } from '../devices/backend.js';
import type { EventBus } from '../../core/bus.js';
import type { CostModel } from '../../core/costs.js';
import type { Kernel } from '../../core/kernel.js';
import { Vector } from '../../core/isa/opcodes.js';
import type { SchedulingPolicy } from '../scheduler/policy.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import type { Vm } from '../vm.js';
import type { MonitorParts } from '../parts.js';
import type { MemoryManager } from './hostMemory.js';

/** The kinds of the monitor's kernel queue entries: one table, so no two parts take the same number. */
export const Entry = {
  /** A physical CPU picks its next vCPU (arg: generation x PCPU_BITS + pCPU). */
  DISPATCH: 0,
  /** A vCPU enters the guest: a batch runs (arg: as DISPATCH). */
  ENTER: 1,
  /** The batch's end is handled (arg: as DISPATCH). */
  STOP: 2,
  /** An injected stall ends (arg: the vCPU's key). */
  STALL_END: 3,
  /** The scheduling policy's tick (arg: the tick generation). */
  TICK: 4,
  /** Type 2: the host scheduler wakes a vCPU thread (arg: the vCPU's key). */
  HOST_WAKE: 5,
  /** Type 2: the host's processes take their share of a CPU (arg: the pCPU). */
  HOST_TICK: 6,
  /** A vCPU of a VM restored from an image starts, late by what it lagged its siblings when saved (arg: its key). */
  RESTORED_START: 7,
} as const;

/** pcpu index and a generation number packed into one queue argument. */
export const PCPU_BITS = 1024;

export interface Pcpu {
  readonly index: number;
  current: Vcpu | null;
  /** The vCPU that ran last (a switch to another costs contextSwitchNs). */
  last: Vcpu | null;
  sliceEnd: number;
  /** Bumped whenever the CPU's plan changes, so stale queue entries are ignored. */
  generation: number;
  dispatchPending: boolean;
  idle: boolean;
  sliceStart: number;
  busyNs: number;
  /** Between ENTER and its STOP: the batch started at batchStart and stops at stopTime. */
  inBatch: boolean;
  batchStart: number;
  stopTime: number;
  /** CPU time the batch holds: its guest time, or more when it runs slowed down (NUMA, remote memory). */
  heldNs: number;
  /** Of the batch in flight, the ns already charged to the policy by settle (the rest at its stop). */
  chargedNs: number;
  /**
   * An interrupt line that arrived while the vCPU ran guest code (without posted interrupts): the
   * batch was cut there and its stop is an external-interrupt exit. -1: none.
   */
  interruptLine: number;
  /**
   * An external-interrupt exit due at the next entry of generation `exitAtEntryGeneration` (the
   * interrupt arrived during a passthrough access, which the vCPU finishes first). -1: none.
   */
  exitAtEntry: number;
  exitAtEntryGeneration: number;
  /** When the last ENTER was scheduled for (a saved vCPU records how long it had to wait for it). */
  enterAt: number;
  /** When the last DISPATCH was scheduled for. */
  dispatchAt: number;
}

export interface MonitorOptions {
  readonly pcpus: number;
  readonly runEndNs: number;
  /** type2: the monitor runs as processes of a host OS (costs and interference; see docs). */
  readonly hostType?: 'type1' | 'type2';
  /** type2: share of each physical CPU the host's own processes take. */
  readonly hostLoad?: number;
  /**
   * Several hosts of their own types (hosts[].type, hosts[].load): each physical CPU's host type
   * and load, and the type of the host a VM is on now (it changes when the VM migrates). Absent:
   * every CPU and VM is hostType, with hostLoad.
   */
  readonly hostTypes?: HostTypes | undefined;
  readonly instructionLimit: number | undefined;
  readonly maxBatchNs: number;
  /** The longest batch of a vCPU while another vCPU of its VM runs (default 1 us; see enter). */
  readonly smpQuantumNs?: number;
  /** Parts the monitor is built with instead of the standard ones (parts.ts); undefined normally. */
  readonly parts?: MonitorParts | undefined;
  /** The host's memory manager when it shares pages or overcommits (hostMemory.ts). */
  readonly memory?: MemoryManager | undefined;
  /** The driver domain's backend (host.driverDomain): the other VMs' diverted lines go through it. Absent: none. */
  readonly backend?: Backend | undefined;
  /** Each physical CPU's host, in a scenario with several hosts (its `pcpu.idle` events name it). Absent: one host. */
  readonly pcpuHosts?: readonly string[] | undefined;
  /** Live migration's hooks (migration/dirtyLog.ts): a store to a page pre-copy protected, an access to a page post-copy has not brought yet, fault to it. Absent: none. */
  readonly dirtyLog?: { fault(vm: Vm, page: number, write: boolean): { readonly ns: number; readonly cause: 'dirty-log' | 'postcopy' } | undefined } | undefined;
  /**
   * NUMA (host.topology.nodes): each pCPU's node, each vCPU's memory node (by key; -1: none, as
   * dom0's) and how many times slower guest code runs away from it. Absent: no NUMA.
   */
  readonly numa?: { readonly nodeOfPcpu: readonly number[]; readonly memoryNodeOfVcpu: readonly number[]; readonly remoteSlowdown: number } | undefined;
}

/** Each host's type where hosts differ (MonitorOptions.hostTypes). */
export interface HostTypes {
  readonly typeOfPcpu: readonly ('type1' | 'type2')[];
  readonly loadOfPcpu: readonly number[];
  typeOfVm(vm: Vm): 'type1' | 'type2';
}

export type EndReason = 'time' | 'instructions' | 'idle' | 'stopped';

/** The monitor's state and the operations its parts call back. */
export interface MonitorCore {
  readonly kernel: Kernel;
  readonly bus: EventBus;
  /** The monitor's kernel target (for its parts' queue entries, kinds from Entry). */
  readonly target: number;
  /** The cost model in force (a fork can change it). */
  readonly costs: CostModel;
  readonly options: MonitorOptions;
  readonly pcpus: readonly Pcpu[];
  readonly policy: SchedulingPolicy;
  /** Hands a vCPU to the policy, the running vCPUs' time charged up to now first (Monitor.settle). */
  enqueue(vcpu: Vcpu, now: number, reason?: Parameters<SchedulingPolicy['enqueue']>[2]): void;
  readonly vms: readonly Vm[];
  vmOf(vcpu: Vcpu): Vm;
  /** The vCPU an exit event came from. */
  vcpuOf(src: string): Vcpu;
  /** The VM a device belongs to, by the device's id. */
  vmOfDevice(src: string): Vm | undefined;
  vcpuByKey(key: number): Vcpu | undefined;
  /** A word of guest-physical memory, or undefined outside the VM's. */
  readGuest(vm: Vm, address: number): number | undefined;
  /** Schedules a physical CPU's entry (DISPATCH, ENTER or STOP) at `time`. */
  schedule(pcpu: Pcpu, kind: number, time: number): void;
  /** The vCPU carries on after its exit was handled in `handlingNs` (plus the exit and the entry). */
  resumeAfterExit(vcpu: Vcpu, handlingNs: number): void;
  /** Takes a vCPU off its physical CPU, which then picks other work after `delayNs`. */
  release(pcpu: Pcpu, vcpu: Vcpu, delayNs: number): void;
  /** Cuts the batch running on a physical CPU so that it stops at `time`. */
  truncate(pcpu: Pcpu, time: number): void;
  /** Ends the batch on a physical CPU now (the vCPU keeps what it ran up to now). */
  endBatchNow(pcpu: Pcpu, vcpu: Vcpu): void;
  /** Asks idle physical CPUs to pick work. */
  kick(): void;
  crash(vm: Vm, culprit: Vcpu, reason: string): void;
  powerOff(vm: Vm, reason: string): void;
}

export const VECTOR_NAMES: Readonly<Record<number, string>> = {
  [Vector.DE]: '#DE (divide error)',
  [Vector.GP]: '#GP (privileged instruction)',
  [Vector.PF]: '#PF (page fault)',
  [Vector.SYSCALL]: 'syscall',
  [Vector.UD]: '#UD (undefined opcode)',
  [Vector.AC]: '#AC (misaligned instruction address)',
};
