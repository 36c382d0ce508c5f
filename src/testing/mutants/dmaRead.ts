/** dma-read: the IOMMU checks what a DMA writes but not what it reads. */
import type { Mutant } from './shared.js';

export const dmaRead: Mutant = {
  name: 'dma-read',
  bug: 'a DMA whose reads the IOMMU does not check: a source address outside the VM is read as a host address',
  caughtBy: 'confidentiality',
  parts: {
    name: 'dma-read',
    wire(vms) {
      for (const vm of vms) {
        const checked = vm.dma.translate.bind(vm.dma);
        const hostWords = vm.memory.host.words.length;
        vm.dma.translate = (address, write) => {
          const index = checked(address, write);
          if (index >= 0 || write === true) return index;
          return address >= 0 && address < hostWords ? address : -1;
        };
      }
    },
  },
};
