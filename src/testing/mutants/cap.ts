/** cap: a cap not enforced; the scheduler ignores every VM's cap. */
import type { Mutant } from './shared.js';

export const cap: Mutant = {
  name: 'cap',
  bug: "a cap not enforced: the credit scheduler ignores every VM's cap",
  caughtBy: 'resource-control',
  parts: {
    name: 'cap',
    wire(vms) {
      for (const vm of vms) vm.setSchedParams({ ...vm.options.params, cap: 0 });
    },
  },
};
