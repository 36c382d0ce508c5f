/** csr-leak: state not restored on a switch between VMs (the scratch CSR keeps the previous VM's value). */
import { Csr } from '../../core/isa/opcodes.js';
import type { Mutant } from './shared.js';

export const csrLeak: Mutant = {
  name: 'csr-leak',
  bug: "state not restored on a switch between VMs: the scratch CSR a vCPU finds is the previous VM's",
  caughtBy: 'confidentiality',
  parts: {
    name: 'csr-leak',
    worldSwitch(incoming, outgoing) {
      if (outgoing !== null && outgoing.vm !== incoming.vm) incoming.cpu.csr[Csr.SCRATCH] = outgoing.cpu.csr[Csr.SCRATCH];
    },
  },
};
