/**
 * gpa-bounds: a missing bounds check in the guest-physical map. A VM's map runs on for
 * OVERRUN_PAGES past its end, into its neighbour's first frames.
 */
import { GuestPhysicalMap, type HostMemory } from '../../core/memory.js';
import { PAGE_WORDS } from '../../core/platform.js';
import { neighbourOf, type Mutant } from './shared.js';

/** Guest pages the mutant maps past the end of a VM's memory. */
const OVERRUN_PAGES = 4;

/**
 * The map of the mutant: the VM's own pages, then OVERRUN_PAGES more that `wire` later points at
 * its neighbour's first frames. Its size, reset stack pointer and digest stay those of the VM's
 * declared memory: only the bounds check is missing.
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
    // The declared pages only, as a map of them alone would copy them.
    const declared = new GuestPhysicalMap(this.host, Array.from(this.pageBase.subarray(0, this.declaredPages), (base) => (base < 0 ? -1 : base / PAGE_WORDS)));
    declared.swappedWords = this.swappedWords;
    return declared.snapshotWords();
  }
}

export const gpaBounds: Mutant = {
  name: 'gpa-bounds',
  bug: "a missing bounds check in the guest-physical map: a VM's map runs on into its neighbour's frames",
  caughtBy: 'memory-isolation',
  parts: {
    name: 'gpa-bounds',
    guestMap: (host, frames) => new OverrunningMap(host, frames, frames.length),
    wire(vms) {
      for (const vm of vms) {
        const neighbour = neighbourOf(vms, vm);
        if (neighbour === vm) continue;
        const own = vm.memory.sizeWords / PAGE_WORDS;
        for (let page = 0; page < OVERRUN_PAGES && page < neighbour.memory.pageCount; page++) {
          vm.memory.pageBase[own + page] = neighbour.memory.pageBase[page];
          vm.memory.writeBase[own + page] = neighbour.memory.pageBase[page];
        }
      }
    },
  },
};
