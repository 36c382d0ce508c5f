/**
 * shared-disk: every VM's virtual disk backed by the same image (a storage mix-up: two domains'
 * configurations naming one disk file, or a backend that looks the image up by the wrong id).
 */
import type { Mutant } from './shared.js';

export const sharedDisk: Mutant = {
  name: 'shared-disk',
  bug: "every VM's virtual disk backed by the first VM's image: one guest's sector writes land on another's disk",
  caughtBy: 'non-interference',
  parts: {
    name: 'shared-disk',
    wire(vms) {
      if (vms.length === 0) return;
      // The block device keeps its image private; the mix-up is made where a backend would make it.
      const image = vms[0].block.disk;
      for (const vm of vms.slice(1)) (vm.block as unknown as { image: Int32Array }).image = image;
    },
  },
};
