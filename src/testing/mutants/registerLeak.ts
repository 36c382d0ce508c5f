/** register-leak: registers not reloaded on a switch between VMs. */
import type { Mutant } from './shared.js';

export const registerLeak: Mutant = {
  name: 'register-leak',
  bug: "registers not reloaded on a switch between VMs: a vCPU starts with the previous VM's registers",
  caughtBy: 'non-interference',
  parts: {
    name: 'register-leak',
    worldSwitch(incoming, outgoing) {
      // The world switch forgets to load the incoming vCPU's registers when the VM changes.
      if (outgoing !== null && outgoing.vm !== incoming.vm) incoming.cpu.regs.set(outgoing.cpu.regs);
    },
  },
};
