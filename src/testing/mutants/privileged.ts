/** privileged: a privileged instruction let through from virtual user mode. */
import { Vector } from '../../core/isa/opcodes.js';
import { executePrivileged } from '../../actors/vcpu/interpreter.js';
import type { Mutant } from './shared.js';

export const privileged: Mutant = {
  name: 'privileged',
  bug: 'a privileged instruction let through: one run in virtual user mode is emulated instead of reflected as #GP',
  caughtBy: 'trap-completeness',
  parts: {
    name: 'privileged',
    exits: {
      exception(core, event) {
        const vcpu = core.vcpuOf(event.src);
        const cpu = vcpu.cpu;
        if (event.data.mode === 'kernel' || cpu.stopA !== Vector.GP) return false;
        // A sensitive instruction from user mode is emulated as if the guest kernel had run it,
        // instead of being reflected to the guest as #GP.
        const vm = core.vmOf(vcpu);
        const a = core.readGuest(vm, cpu.pc + 1) ?? 0;
        const b = core.readGuest(vm, cpu.pc + 2) ?? 0;
        if (!executePrivileged(cpu, cpu.stopB, a, b)) return false;
        core.resumeAfterExit(vcpu, core.costs.privilegedEmulateNs);
        return true;
      },
    },
  },
};
