/**
 * The end-of-run report: per VM and per vCPU, state, instructions retired, exits by reason, CPU
 * time, wait time and monitor overhead; per physical CPU, utilisation. Plain data (JSON-ready).
 */
import type { ExitReason, VcpuState, VmState } from '../core/events.js';
import type { EndReason } from './monitor/monitor.js';
import type { Simulation } from './simulation.js';
import type { MemoryStats } from './monitor/hostMemory.js';

export interface VcpuSummary {
  readonly index: number;
  readonly state: VcpuState;
  readonly instructions: number;
  readonly workNs: number;
  readonly exits: Readonly<Record<ExitReason, number>>;
  readonly exitsTotal: number;
  readonly interrupts: number;
  readonly cpuNs: number;
  readonly waitNs: number;
  readonly overheadNs: number;
}

export interface VmSummary {
  readonly name: string;
  readonly state: VmState;
  readonly reason: string;
  readonly consoleLines: number;
  readonly vcpus: readonly VcpuSummary[];
}

export interface RunSummary {
  readonly scenario: string;
  readonly seed: number;
  readonly endReason: EndReason;
  readonly timeNs: number;
  readonly events: number;
  readonly instructions: number;
  readonly pcpus: readonly { readonly index: number; readonly busyNs: number; readonly utilisation: number }[];
  readonly vms: readonly VmSummary[];
  /** Host memory (frames used, shared, swapped), when the host shares pages or overcommits. */
  readonly memory?: MemoryStats;
}

export function summarize(simulation: Simulation, endReason: EndReason): RunSummary {
  const now = simulation.kernel.now;
  // A bare host has no monitor to exit to: the engine's exit path there is the device access or
  // the halt itself, at no cost (technique.ts, bareMachine), and counts as no exit.
  const bare = simulation.scenario.host.type === 'bare';
  return {
    scenario: simulation.scenario.name,
    seed: simulation.seed,
    endReason,
    timeNs: now,
    events: simulation.bus.count,
    instructions: simulation.monitor.retiredTotal,
    pcpus: simulation.monitor.pcpus.map((pcpu) => ({
      index: pcpu.index,
      busyNs: pcpu.busyNs,
      utilisation: now > 0 ? Math.round((pcpu.busyNs / now) * 10_000) / 10_000 : 0,
    })),
    ...(simulation.memory === undefined ? {} : { memory: simulation.memory.stats() }),
    vms: simulation.vms.map((vm) => ({
      name: vm.name,
      state: vm.state,
      reason: vm.endReason,
      consoleLines: vm.console.transcript.split('\n').length - 1,
      vcpus: vm.vcpus.map((vcpu) => {
        const exits = { ...vcpu.counters.exits };
        if (bare) for (const reason of Object.keys(exits) as (keyof typeof exits)[]) exits[reason] = 0;
        return {
          index: vcpu.index,
          state: vcpu.state,
          instructions: vcpu.cpu.retired + vcpu.counters.completed,
          workNs: vcpu.cpu.workNs,
          exits,
          exitsTotal: Object.values(exits).reduce((sum, count) => sum + count, 0),
          interrupts: vcpu.counters.interrupts,
          cpuNs: vcpu.counters.cpuNs,
          waitNs: vcpu.counters.waitNs,
          overheadNs: vcpu.counters.overheadNs,
        };
      }),
    })),
  };
}
