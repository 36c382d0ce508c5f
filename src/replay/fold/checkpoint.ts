/**
 * The InspectState at a checkpoint, built from the actors' state the checkpoint line carries
 * (`Simulation.state()`), so a fold can start there instead of at the top of the log.
 */
import { freeze } from 'immer';
import type { LogCheckpoint } from '../../core/log/format.js';
import type { DeviceState, ExitReason, PrivilegeMode, VcpuState, VmState } from '../../core/events.js';
import { reduceMigration, type MigrationEvent } from './reducers.js';
import { exitMode, linesOf, zeroExits, type InspectState, type PcpuView, type TimerMode, type VcpuView, type VmView } from './state.js';

/** The parts of a checkpoint's `state` the fold reads (see Simulation.state()). */
interface CheckpointState {
  readonly monitor: { readonly pcpus: readonly { readonly index: number; readonly current: string | null; readonly idle: boolean }[] };
  readonly vms: Readonly<Record<string, CheckpointVm>>;
  /** Several hosts: each VM's last migration's events (Migrator.snapshot). */
  readonly migrations?: Readonly<Record<string, readonly Pick<MigrationEvent, 'type' | 'data'>[]>>;
}

interface CheckpointVm {
  readonly state: VmState;
  readonly endReason: string;
  readonly guest: string;
  readonly memory: { readonly words: number };
  readonly vcpus: readonly CheckpointVcpu[];
  readonly devices: {
    readonly pic: { readonly state: DeviceState; readonly pending: number; readonly inService: number };
    readonly timer: { readonly state: DeviceState; readonly mode: TimerMode; readonly ns: number; readonly fired: number };
    readonly console: { readonly state: DeviceState; readonly lines: number; readonly recent: readonly string[] };
    readonly power: { readonly state: DeviceState };
  };
}

interface CheckpointVcpu {
  readonly state: VcpuState;
  readonly pcpu: number;
  readonly exits: Readonly<Record<ExitReason, number>>;
  readonly interrupts: number;
  readonly dispatches: number;
  readonly exceptions: number;
  readonly lastExit: { readonly reason: ExitReason; readonly pc: number; readonly mode: PrivilegeMode } | null;
  readonly runnableSeq: number;
}

export class CheckpointFormatError extends Error {
  constructor(detail: string) {
    super(`this checkpoint cannot start a fold: ${detail} (written by an older engine?)`);
    this.name = 'CheckpointFormatError';
  }
}

/** The state after the last event before `checkpoint` (seq `checkpoint.seq - 1`). */
export function stateFromCheckpoint(checkpoint: Pick<LogCheckpoint, 'seq' | 't' | 'state'>): InspectState {
  const state = checkpoint.state as CheckpointState;
  if (typeof state !== 'object' || state === null || state.monitor === undefined || state.vms === undefined) {
    throw new CheckpointFormatError('no monitor or VMs');
  }
  const pcpus: PcpuView[] = state.monitor.pcpus.map((pcpu) => ({ index: pcpu.index, running: pcpu.current, idle: pcpu.idle }));
  const runnable: { id: string; seq: number }[] = [];
  const vms: Record<string, VmView> = {};
  for (const [name, vm] of Object.entries(state.vms)) {
    const vcpus = vm.vcpus.map((vcpu, index): VcpuView => {
      if (vcpu.runnableSeq === undefined || vcpu.exceptions === undefined) throw new CheckpointFormatError(`vCPU ${index} of ${name} lacks counters`);
      const id = `vm/${name}/vcpu/${index}`;
      if (vcpu.state === 'runnable') runnable.push({ id, seq: vcpu.runnableSeq });
      const exits = zeroExits();
      for (const reason of Object.keys(exits) as ExitReason[]) exits[reason] = vcpu.exits[reason] ?? 0;
      const last = vcpu.lastExit;
      return {
        index,
        id,
        state: vcpu.state,
        pcpu: vcpu.pcpu < 0 ? null : vcpu.pcpu,
        lastExit: last === null ? null : { reason: last.reason, pc: last.pc, mode: exitMode(last.reason, reportedMode(last.reason, last.mode)) },
        counters: { exits, interrupts: vcpu.interrupts, exceptions: vcpu.exceptions, dispatches: vcpu.dispatches },
      };
    });
    const devices = vm.devices;
    if (devices.console.lines === undefined || devices.timer.mode === undefined) throw new CheckpointFormatError(`VM ${name}'s devices lack fields`);
    vms[name] = {
      name,
      guest: vm.guest,
      memoryBytes: vm.memory.words * 4,
      state: vm.state,
      endReason: vm.endReason === '' ? null : vm.endReason,
      console: { lines: devices.console.lines, last: [...devices.console.recent] },
      devices: {
        pic: { state: devices.pic.state, pending: linesOf(devices.pic.pending), inService: linesOf(devices.pic.inService) },
        timer: { state: devices.timer.state, mode: devices.timer.mode, ns: devices.timer.ns, fired: devices.timer.fired },
        console: { state: devices.console.state },
        power: { state: devices.power.state },
      },
      counters: sumCounters(vcpus),
      vcpus,
    };
    for (const event of state.migrations?.[name] ?? []) reduceMigration(vms[name] as Parameters<typeof reduceMigration>[0], event);
  }
  runnable.sort((a, b) => a.seq - b.seq);
  return freeze(
    { seq: checkpoint.seq - 1, t: checkpoint.t, ended: null, pcpus, runQueue: runnable.map((entry) => entry.id), vms },
    true,
  );
}

/** The mode an exit event reports in its data (privileged, exception), else undefined. */
export function reportedMode(reason: ExitReason, mode: PrivilegeMode): PrivilegeMode | undefined {
  return reason === 'privileged' || reason === 'exception' ? mode : undefined;
}

export function sumCounters(vcpus: readonly VcpuView[]): VmView['counters'] {
  const exits = zeroExits();
  let exitsTotal = 0;
  let interrupts = 0;
  let exceptions = 0;
  for (const vcpu of vcpus) {
    for (const reason of Object.keys(exits) as ExitReason[]) {
      exits[reason] += vcpu.counters.exits[reason];
      exitsTotal += vcpu.counters.exits[reason];
    }
    interrupts += vcpu.counters.interrupts;
    exceptions += vcpu.counters.exceptions;
  }
  return { exits, exitsTotal, interrupts, exceptions };
}
