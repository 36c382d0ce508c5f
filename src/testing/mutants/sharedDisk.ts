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
      const disks = vms.flatMap((vm) => (vm.block === null ? [] : [vm.block]));
      if (disks.length === 0) return;
      // The block device keeps its image private; the mix-up is made where a backend would make it.
      const image = disks[0].disk;
      for (const block of disks.slice(1)) (block as unknown as { image: Int32Array }).image = image;
    },
  },
};
