/**
 * The InspectState of a live simulation, read from its actors: the same shape and fields the
 * fold computes from the log, so the two can be compared (a property test does, at every step).
 * Take it at a step boundary (Simulation.onStep, or after runUntilEvent): actors are consistent
 * between kernel steps, not inside one. `t` is the kernel's clock: the last event's time when
 * taken right after the step that published it.
 */
import type { Simulation } from '../../actors/simulation.js';
import { Mode } from '../../core/isa/opcodes.js';
import type { ExitReason } from '../../core/events.js';
import { reportedMode, sumCounters } from './checkpoint.js';
import { exitMode, linesOf, zeroExits, type InspectState, type VcpuView, type VmView } from './state.js';

export function projectSimulation(simulation: Simulation): InspectState {
  const runnable: { id: string; seq: number }[] = [];
  const vms: Record<string, VmView> = {};
  for (const vm of simulation.vms) {
    const vcpus = vm.vcpus.map((vcpu): VcpuView => {
      if (vcpu.state === 'runnable') runnable.push({ id: vcpu.id, seq: vcpu.runnableSeq });
      const exits = zeroExits();
      for (const reason of Object.keys(exits) as ExitReason[]) exits[reason] = vcpu.counters.exits[reason];
      const reason = vcpu.lastExitReason;
      const mode = vcpu.lastExitMode === Mode.USER ? 'user' : 'kernel';
      return {
        index: vcpu.index,
        id: vcpu.id,
        state: vcpu.state,
        pcpu: vcpu.pcpu < 0 ? null : vcpu.pcpu,
        lastExit: reason === '' ? null : { reason, pc: vcpu.lastExitPc, mode: exitMode(reason, reportedMode(reason, mode)) },
        counters: {
          exits,
          interrupts: vcpu.counters.interrupts,
          exceptions: vcpu.counters.exceptions,
          dispatches: vcpu.counters.dispatches,
        },
      };
    });
    vms[vm.name] = {
      name: vm.name,
      guest: vm.options.guest,
      memoryBytes: vm.memory.sizeWords * 4,
      state: vm.state,
      endReason: vm.endReason === '' ? null : vm.endReason,
      console: { lines: vm.console.linesEmitted, last: [...vm.console.recent] },
      devices: {
        pic: { state: vm.pic.lifecycle.state, pending: linesOf(vm.pic.pending), inService: linesOf(vm.pic.inService), ...(vm.pic.latched === 0 ? {} : { latched: linesOf(vm.pic.latched) }) },
        timer: { state: vm.timer.lifecycle.state, mode: vm.timer.armedMode, ns: vm.timer.armedNs, fired: vm.timer.fired },
        console: { state: vm.console.lifecycle.state },
        power: { state: vm.power.lifecycle.state },
      },
      counters: sumCounters(vcpus),
      vcpus,
    };
  }
  runnable.sort((a, b) => a.seq - b.seq);
  return {
    seq: simulation.bus.count - 1,
    t: simulation.kernel.now,
    ended: simulation.finished ? simulation.summary().endReason : null,
    pcpus: simulation.monitor.pcpus.map((pcpu) => ({ index: pcpu.index, running: pcpu.current?.id ?? null, idle: pcpu.idle })),
    runQueue: runnable.map((entry) => entry.id),
    vms,
  };
}
