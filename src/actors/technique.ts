/**
 * Virtualization techniques: what a sensitive instruction and a guest exception cost a VM.
 *
 *   full  trap-and-emulate: every sensitive instruction run in virtual kernel mode traps to the
 *         monitor, which decodes and emulates it; guest exceptions and syscalls trap to the
 *         monitor too, which reflects them into the guest (the monitor owns the real vector table)
 *   para  the same CPU as full; the guest kernel is built to call the monitor with hypercalls
 *         instead of trapping (fewer, coarser exits: see the kernel-pv guest)
 *   hw    hardware-assisted (VT-x/AMD-V): sensitive instructions that only touch vCPU state (cli,
 *         sti, iret, csrr, csrw) run without an exit, and guest exceptions are delivered through
 *         the guest's own vector table without one; hlt, I/O and hypercalls still exit
 *   bt    binary translation (VMware's original technique): kernel code is translated a page at a
 *         time the first time it runs; each sensitive instruction becomes a call into the monitor
 *         (btCallNs, no trap); exceptions still go through the monitor
 */
import { PRIVILEGED } from '../core/isa/opcodes.js';
import type { Scenario, VirtTechnique } from '../core/scenario/schema.js';
import type { CostName } from '../core/costs.js';

export interface Technique {
  readonly name: VirtTechnique;
  /** Which privileged instructions exit when run in virtual kernel mode. */
  readonly trapMask: Uint8Array;
  /** Guest exceptions are delivered by the CPU through the guest's vector table, without an exit. */
  readonly nativeExceptions: boolean;
  /** Kernel code is binary-translated (a cost per page, then per sensitive instruction). */
  readonly translates: boolean;
}

const NONE = new Uint8Array(64);

export const TECHNIQUES: Readonly<Record<VirtTechnique, Technique>> = {
  full: { name: 'full', trapMask: PRIVILEGED, nativeExceptions: false, translates: false },
  para: { name: 'para', trapMask: PRIVILEGED, nativeExceptions: false, translates: false },
  hw: { name: 'hw', trapMask: NONE, nativeExceptions: true, translates: false },
  bt: { name: 'bt', trapMask: NONE, nativeExceptions: false, translates: true },
};

/** The bare machine: no monitor, so no exits, no emulation; a device access costs the device's time. */
export const BARE_MACHINE_COSTS: Readonly<Partial<Record<CostName, number>>> = Object.freeze({
  exitNs: 0,
  entryNs: 0,
  privilegedEmulateNs: 0,
  ioEmulateNs: 300,
  mmioEmulateNs: 300,
  hypercallNs: 0,
  exceptionReflectNs: 0,
  interruptInjectNs: 0,
  contextSwitchNs: 0,
  scheduleNs: 0,
});

/**
 * A scenario as the bare machine runs it (`host.type: bare`, and compare --arch's reference row):
 * no monitor, so no exit or emulation costs (BARE_MACHINE_COSTS over the scenario's own), the
 * CPU's own exceptions and paging (hardware-assisted, native MMU), no host load, no posted
 * interrupts (nothing to post to). Idempotent. The engine still routes a device access or a halt
 * through its one exit path, at no cost; summaries count no exit on a bare host.
 */
export function bareMachine(scenario: Scenario): Scenario {
  return {
    ...scenario,
    host: { ...scenario.host, type: 'bare', load: 0 },
    costs: { ...scenario.costs, ...BARE_MACHINE_COSTS },
    vms: scenario.vms.map((vm) => ({ ...vm, virt: 'hw', postedInterrupts: false, paging: 'native' })),
  };
}
