/**
 * The VM's IOMMU (Intel VT-d's DMA remapping, reduced): the translation a passthrough device's
 * DMA goes through, which is the VM's own guest-physical map, and the fault it reports when a
 * transfer reaches outside it. A blocked transfer is blocked whole: the device checks every word
 * before it copies one, so nothing is read or written, and the IOMMU publishes `iommu.fault`
 * (VT-d records a fault and raises a fault event to the host; the guest only sees its device's
 * error status).
 *
 * Emulated and paravirtual devices are models inside the monitor: they check the guest's addresses
 * through the same map themselves and report their own refusals (blk.refused, net.dropped).
 */
import type { EventBus } from '../../core/bus.js';
import type { GuestPhysicalMap } from '../../core/memory.js';

export type DmaAccess = 'read' | 'write';

export class Iommu {
  readonly id: string;
  /** Transfers blocked since the VM was built. */
  faults = 0;

  constructor(
    vmId: string,
    private readonly bus: EventBus,
    private readonly memory: GuestPhysicalMap,
  ) {
    this.id = `${vmId}/iommu`;
  }

  /**
   * The host word of each of `words` words at guest-physical `address`, or, when one is outside
   * the VM's memory, null after the fault has been reported for `device`.
   */
  map(device: string, address: number, words: number, access: DmaAccess): Int32Array | null {
    const indexes = new Int32Array(words);
    for (let offset = 0; offset < words; offset++) {
      const at = (address + offset) | 0;
      // A write to a page shared with other VMs gives this VM its own copy first; an unbacked page is backed.
      const index = access === 'write' ? this.memory.translateWrite(at) : this.memory.translateRead(at);
      if (index < 0) {
        this.faults++;
        this.bus.publish(this.id, 'iommu.fault', {
          device,
          addr: at,
          access,
          reason: `DMA ${access} of guest-physical address 0x${(at >>> 0).toString(16)} is outside the VM's memory`,
        });
        return null;
      }
      indexes[offset] = index;
    }
    return indexes;
  }
}
