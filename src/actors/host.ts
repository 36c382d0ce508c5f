/**
 * The host: the physical machine the monitor runs on. It owns the physical CPUs (counted; the
 * monitor schedules them) and host physical memory, from which each VM's frames are allocated.
 */
import { HostMemory } from '../core/memory.js';
import { PAGE_BYTES } from '../core/platform.js';

export class Host {
  readonly id = 'host';
  readonly memory: HostMemory;

  constructor(
    readonly pcpus: number,
    readonly memoryBytes: number,
    /** Bytes actually backed by an array: only what the VMs use, so a big host costs nothing. */
    backedBytes: number,
  ) {
    if (!Number.isInteger(pcpus) || pcpus < 1) throw new RangeError(`a host needs at least one physical CPU, got ${pcpus}`);
    if (backedBytes > memoryBytes) {
      throw new RangeError(`the VMs need ${backedBytes} bytes of memory, the host has ${memoryBytes} (host.overcommit: true lets them share it)`);
    }
    this.memory = new HostMemory(Math.ceil(backedBytes / PAGE_BYTES));
  }
}
