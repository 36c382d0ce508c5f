/** dma-iommu: a DMA not checked by the IOMMU; an address outside the VM goes to the bus as a host address. */
import type { Mutant } from './shared.js';

export const dmaIommu: Mutant = {
  name: 'dma-iommu',
  bug: 'a DMA not checked by the IOMMU: an address outside the VM goes to the bus as a host address',
  caughtBy: 'memory-isolation',
  parts: {
    name: 'dma-iommu',
    wire(vms) {
      for (const vm of vms) {
        const checked = vm.dma.translate.bind(vm.dma);
        const hostWords = vm.memory.host.words.length;
        // Without the IOMMU check the device puts the address on the bus as it is: host memory.
        vm.dma.translate = (address, write) => {
          const index = checked(address, write);
          return index >= 0 ? index : address >= 0 && address < hostWords ? address : -1;
        };
      }
    },
  },
};
