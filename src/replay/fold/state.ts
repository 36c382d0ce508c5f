/**
 * The state of the whole system that the events determine (the fold's result): plain,
 * JSON-serialisable data, frozen when handed out. docs/replay.md describes every field.
 *
 * It holds what the log says and nothing else: lifecycles, who runs where, the run queue,
 * interrupt lines, device states, counters and the console's last lines. Registers and memory
 * are not in events: `vmmsim inspect` gets them by re-executing the run to the point.
 */
import type { DeviceState, ExitReason, PrivilegeMode, VcpuState, VmState } from '../../core/events.js';
import { EXIT_REASONS } from '../../core/events.js';
import type { EndReason } from '../../actors/monitor/monitor.js';

export type TimerMode = 'periodic' | 'oneshot' | 'off';
export type ExitCounts = Readonly<Record<ExitReason, number>>;

/** A vCPU's last exit as its event reports it. */
export interface LastExit {
  readonly reason: ExitReason;
  /** The guest-physical address of the instruction that exited. */
  readonly pc: number;
  /**
   * The privilege mode at the exit, when the exit says: `privileged` and `exception` carry it;
   * `io`, `hlt` and `hypercall` exit only from virtual kernel mode; `mmio`, `page-fault`,
   * `preempt` and `shutdown` do not say (null).
   */
  readonly mode: PrivilegeMode | null;
}

export interface VcpuView {
  readonly index: number;
  /** e.g. `vm/web/vcpu/0`. */
  readonly id: string;
  readonly state: VcpuState;
  /** The physical CPU it runs on (running only), else null. */
  readonly pcpu: number | null;
  readonly lastExit: LastExit | null;
  readonly counters: {
    readonly exits: ExitCounts;
    /** Interrupts injected (`irq.inject`). */
    readonly interrupts: number;
    /** Exceptions reflected into the guest (`exception.inject`). */
    readonly exceptions: number;
    /** Times it was given a physical CPU (`vcpu.running`). */
    readonly dispatches: number;
  };
}

export interface PicView {
  readonly state: DeviceState;
  /** Lines raised and not yet injected, ascending. */
  readonly pending: readonly number[];
  /** Lines injected and not yet acknowledged (EOI), ascending. */
  readonly inService: readonly number[];
  /**
   * Driver domain: diverted lines that dom0's backend latched (`backend.done`) and that are not
   * yet injected, ascending; absent when there are none. A device's `irq.raise` of a diverted
   * line is undone by the `backend.queued` that follows it, unless the line is latched already.
   */
  readonly latched?: readonly number[];
}

export interface TimerView {
  readonly state: DeviceState;
  /** As last programmed (`timer.armed`; a reset turns it off). */
  readonly mode: TimerMode;
  readonly ns: number;
  /** Expiries so far (its `irq.raise` events). */
  readonly fired: number;
}

export interface DeviceView {
  readonly state: DeviceState;
}

export interface VmView {
  readonly name: string;
  readonly guest: string;
  readonly memoryBytes: number;
  readonly state: VmState;
  /** Why it stopped or crashed (`vm.stopped` / `vm.crashed`), else null. */
  readonly endReason: string | null;
  readonly console: {
    /** Lines written so far (`console.output`). */
    readonly lines: number;
    /** The last RECENT_LINES of them, oldest first. */
    readonly last: readonly string[];
  };
  readonly devices: {
    readonly pic: PicView;
    readonly timer: TimerView;
    readonly console: DeviceView;
    readonly power: DeviceView;
  };
  /** Sums over its vCPUs. */
  readonly counters: {
    readonly exits: ExitCounts;
    readonly exitsTotal: number;
    readonly interrupts: number;
    readonly exceptions: number;
  };
  readonly vcpus: readonly VcpuView[];
  /** Its last live migration (`migration.*`), absent when it never migrated. */
  readonly migration?: MigrationView;
}

/** A live migration as its events tell it (docs/migration.md). */
export interface MigrationView {
  readonly from: string;
  readonly to: string;
  readonly state: 'copying' | 'stopped-copy' | 'completed' | 'refused' | 'cancelled';
  /** Why it was refused or cancelled, else null. */
  readonly reason: string | null;
  readonly rounds: readonly { readonly round: number; readonly pagesSent: number; readonly pagesDirtied: number; readonly durationNs: number; readonly throttle: number }[];
  /** Once completed: total time, downtime, pages sent and re-sent, dirty-tracking faults. */
  readonly totalNs: number | null;
  readonly downtimeNs: number | null;
  readonly pagesSent: number | null;
  readonly pagesResent: number | null;
  readonly dirtyFaults: number | null;
}

export interface PcpuView {
  readonly index: number;
  /** The vCPU it runs (its id), or null. */
  readonly running: string | null;
  /** It found nothing to run (`pcpu.idle`) and has not run anything since. */
  readonly idle: boolean;
}

export interface InspectState {
  /** The last event folded (-1: none). */
  readonly seq: number;
  /** Virtual time of that event (ns). */
  readonly t: number;
  /** Why the run ended (`sim.ended`), or null while it goes on. */
  readonly ended: EndReason | null;
  readonly pcpus: readonly PcpuView[];
  /**
   * vCPUs that are runnable, in the order they became runnable (`vcpu.runnable`): exactly the
   * round-robin policy's queue; for other policies, the set of waiting vCPUs in arrival order
   * (the policy may pick in another order).
   */
  readonly runQueue: readonly string[];
  /** By name, in the scenario's order. */
  readonly vms: Readonly<Record<string, VmView>>;
}

/** The devices every VM has, in the order they sit on its I/O bus. */
export const DEVICE_KINDS = ['pic', 'timer', 'console', 'power'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** Before the first event. */
export const EMPTY_STATE: InspectState = Object.freeze({ seq: -1, t: 0, ended: null, pcpus: [], runQueue: [], vms: {} });

export function zeroExits(): Record<ExitReason, number> {
  const exits = {} as Record<ExitReason, number>;
  for (const reason of EXIT_REASONS) exits[reason] = 0;
  return exits;
}

/** Interrupt lines set in a bit mask, ascending. */
export function linesOf(mask: number): number[] {
  const lines: number[] = [];
  for (let line = 0; line < 32; line++) if ((mask & (1 << line)) !== 0) lines.push(line);
  return lines;
}

/** The mode an exit event implies (see LastExit.mode). */
export function exitMode(reason: ExitReason, reported: PrivilegeMode | undefined): PrivilegeMode | null {
  if (reported !== undefined) return reported;
  return reason === 'io' || reason === 'hlt' || reason === 'hypercall' ? 'kernel' : null;
}

export function newVcpu(vm: string, index: number): VcpuView {
  return {
    index,
    id: `vm/${vm}/vcpu/${index}`,
    state: 'created',
    pcpu: null,
    lastExit: null,
    counters: { exits: zeroExits(), interrupts: 0, exceptions: 0, dispatches: 0 },
  };
}

export function newVm(name: string, vcpus: number, memoryBytes: number, guest: string): VmView {
  return {
    name,
    guest,
    memoryBytes,
    state: 'defined',
    endReason: null,
    console: { lines: 0, last: [] },
    devices: {
      pic: { state: 'created', pending: [], inService: [] },
      timer: { state: 'created', mode: 'off', ns: 0, fired: 0 },
      console: { state: 'created' },
      power: { state: 'created' },
    },
    counters: { exits: zeroExits(), exitsTotal: 0, interrupts: 0, exceptions: 0 },
    vcpus: Array.from({ length: vcpus }, (_, index) => newVcpu(name, index)),
  };
}
