/**
 * Deliberately broken monitors (mutants), each one a classic isolation bug, to show that the
 * property suite (src/testing) catches real mistakes. A Simulation built with
 * `mutation: 'gpa-bounds'` (and so on) runs with that one bug; without the option nothing here
 * is used. Every mutant lives outside the interpreter's hot loop: it changes how the system is
 * built (a memory map, an I/O bus, a device) or one branch of the monitor's exit handling.
 *
 * A log written by a mutant records the mutation in its header, so `vmmsim replay` rebuilds the
 * same broken monitor and replays it identically.
 */
import { GuestPhysicalMap, type HostMemory } from '../core/memory.js';
import { PAGE_WORDS } from '../core/platform.js';
import type { Vm } from './vm.js';

export const MUTATIONS = ['gpa-bounds', 'io-owner', 'register-leak', 'dma-iommu', 'irq-route', 'cap', 'privileged'] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** What each mutant breaks, and the property expected to catch it (docs/testing.md). */
export const MUTATION_INFO: Readonly<Record<Mutation, { readonly bug: string; readonly caughtBy: string }>> = {
  'gpa-bounds': { bug: "a missing bounds check in the guest-physical map: a VM's map runs on into its neighbour's frames", caughtBy: 'memory-isolation' },
  'io-owner': { bug: "an I/O port not checked against its owner: a VM's access to a device that does not answer goes to another VM's device", caughtBy: 'resource-control' },
  'register-leak': { bug: 'registers not reloaded on a switch between VMs: a vCPU starts with the previous VM\'s registers', caughtBy: 'non-interference' },
  'dma-iommu': { bug: 'a DMA not checked by the IOMMU: an address outside the VM goes to the bus as a host address', caughtBy: 'memory-isolation' },
  'irq-route': { bug: "an interrupt delivered to the wrong VM: a raised line lands on the next VM's interrupt controller", caughtBy: 'non-interference' },
  cap: { bug: 'a cap not enforced: the credit scheduler ignores every VM\'s cap', caughtBy: 'resource-control' },
  privileged: { bug: 'a privileged instruction let through: one run in virtual user mode is emulated instead of reflected as #GP', caughtBy: 'trap-completeness' },
};

export function isMutation(name: string): name is Mutation {
  return (MUTATIONS as readonly string[]).includes(name);
}

/** Guest pages the gpa-bounds mutant maps past the end of a VM's memory. */
const OVERRUN_PAGES = 4;

/**
 * The map of the gpa-bounds mutant: the VM's own pages, then OVERRUN_PAGES more that are later
 * pointed at its neighbour's first frames (linkMutants). Its size, reset stack pointer and digest
 * stay those of the VM's declared memory: only the bounds check is missing.
 */
class OverrunningMap extends GuestPhysicalMap {
  constructor(
    host: HostMemory,
    frames: readonly number[],
    private readonly declaredPages: number,
  ) {
    super(host, [...frames, ...new Array<number>(OVERRUN_PAGES).fill(-1)]);
  }

  override get sizeWords(): number {
    return this.declaredPages * PAGE_WORDS;
  }

  override snapshotWords(): Int32Array {
    return super.snapshotWords().subarray(0, this.sizeWords);
  }
}

/** The guest-physical map a VM gets under `mutation`. */
export function guestMap(mutation: Mutation | undefined, host: HostMemory, frames: readonly number[]): GuestPhysicalMap {
  return mutation === 'gpa-bounds' ? new OverrunningMap(host, frames, frames.length) : new GuestPhysicalMap(host, frames);
}

/** The VM after `vm` in the scenario's order (the first after the last): who a mutant leaks to. */
export function neighbourOf(vms: readonly Vm[], vm: Vm): Vm {
  return vms[(vms.indexOf(vm) + 1) % vms.length];
}

/** Builds the mutant's broken links between VMs once they all exist (before anything runs). */
export function linkMutants(mutation: Mutation | undefined, vms: readonly Vm[]): void {
  if (mutation === undefined) return;
  for (const vm of vms) {
    const neighbour = neighbourOf(vms, vm);
    switch (mutation) {
      case 'gpa-bounds': {
        const own = vm.memory.sizeWords / PAGE_WORDS;
        for (let page = 0; page < OVERRUN_PAGES && page < neighbour.memory.pageCount; page++) {
          if (neighbour !== vm) {
            vm.memory.pageBase[own + page] = neighbour.memory.pageBase[page];
            vm.memory.writeBase[own + page] = neighbour.memory.pageBase[page];
          }
        }
        break;
      }
      case 'io-owner':
        if (neighbour !== vm) vm.io.fallback = neighbour.io;
        break;
      case 'dma-iommu':
        vm.dma.iommu = false;
        break;
      case 'cap':
        vm.setSchedParams({ ...vm.options.params, cap: 0 });
        break;
      default:
        // register-leak, irq-route and privileged are branches of the monitor (monitor.ts).
        break;
    }
  }
}
