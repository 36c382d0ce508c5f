/**
 * Registers are not in events: to show them at a point, re-execute the run from the log's
 * header to that point (deterministic) and read the live vCPUs. The re-executed state is checked
 * against the fold of the log at the same seq, so a re-execution that went another way (another
 * engine version) is said, not hidden.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Simulation } from '../actors/simulation.js';
import { CSR_NAMES, Mode } from '../core/isa/opcodes.js';
import type { MemoryStats } from '../actors/monitor/hostMemory.js';
import { projectSimulation } from './fold/project.js';
import type { LogFile } from './logFile.js';
import { lastSeq, stateAtSeq } from './seek.js';

export interface VcpuRegisters {
  readonly id: string;
  readonly pc: number;
  readonly mode: 'kernel' | 'user';
  /** Interrupt enable flag. */
  readonly ie: number;
  /** r0..r7 (r7 is sp). */
  readonly regs: readonly number[];
  /** Control registers by name (epc, estatus, ivt...). */
  readonly csr: Readonly<Record<string, number>>;
  /** Instructions retired so far. */
  readonly retired: number;
}

export interface RegistersAt {
  /** The last event published when the re-execution paused (>= the seq asked for). */
  readonly seq: number;
  readonly t: number;
  readonly vcpus: readonly VcpuRegisters[];
  /**
   * Whether the re-executed actors' state equals the log's fold at `seq` (undefined when the log
   * ends before `seq`, a truncated log).
   */
  readonly matchesLog: boolean | undefined;
  /** The host's memory manager at that point (when the host shares pages or overcommits). */
  readonly memory?: MemoryStats;
}

export function vcpuRegisters(simulation: Simulation): VcpuRegisters[] {
  return simulation.vms.flatMap((vm) =>
    vm.vcpus.map((vcpu) => ({
      id: vcpu.id,
      pc: vcpu.cpu.pc,
      mode: vcpu.cpu.mode === Mode.USER ? ('user' as const) : ('kernel' as const),
      ie: vcpu.cpu.ie,
      regs: [...vcpu.cpu.regs],
      csr: Object.fromEntries(CSR_NAMES.map((name, index) => [name, vcpu.cpu.csr[index]])),
      retired: vcpu.cpu.retired,
    })),
  );
}

/** Registers of a simulation restored at a point, checked against the log. */
export function registersOf(simulation: Simulation, file: LogFile): RegistersAt {
  const seq = simulation.bus.count - 1;
  let matchesLog: boolean | undefined;
  if (seq <= lastSeq(file)) matchesLog = isDeepStrictEqual(JSON.parse(JSON.stringify(projectSimulation(simulation))), JSON.parse(JSON.stringify(stateAtSeq(file, seq).state)));
  const memory = simulation.memory?.stats();
  return { seq, t: simulation.kernel.now, vcpus: vcpuRegisters(simulation), matchesLog, ...(memory === undefined ? {} : { memory }) };
}
