/**
 * hypercall-overread: a hypercall that reads past the page of its buffer. The monitor translates
 * the buffer's first address only and reads on in host memory from there, as if the guest's pages
 * were contiguous in the host: a buffer that crosses a page (or the end of the VM) reads a frame
 * the VM does not own.
 */
import { PAGE_WORDS } from '../../core/platform.js';
import type { Mutant } from './shared.js';

export const hypercallOverread: Mutant = {
  name: 'hypercall-overread',
  bug: "a hypercall reading past its buffer's page: only the buffer's first address is translated, the rest is read on in host memory",
  caughtBy: 'confidentiality',
  parts: {
    name: 'hypercall-overread',
    hypercallBufferWord(vm, address, offset) {
      const first = vm.memory.translateRead(address);
      if (first < 0) return undefined;
      const index = first + offset;
      // Within the first page the answer is right; past it, the host's next words whoever owns them.
      if ((address % PAGE_WORDS) + offset < PAGE_WORDS) return vm.memory.host.words[index];
      return index < vm.memory.host.words.length ? vm.memory.host.words[index] : undefined;
    },
  },
};
