/**
 * Passthrough (device assignment, as with VFIO on VT-d): the guest reaches an assigned device's
 * registers directly, without an exit, so the monitor never sees the access. In the simulation
 * the interpreter still stops its batch at every `in`/`out` (it does not know which ports are
 * assigned), which is an artefact of the simulation like a batch cut, not an exit: the monitor
 * handles that stop before an exit would be published, performs the access on the device, charges
 * `passthroughAccessNs` (a PCIe register round trip) to the guest's own time, not to
 * virtualization overhead, counts no exit, publishes nothing and re-enters the guest.
 */
import type { CostModel } from '../../core/costs.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import type { Vm } from '../vm.js';

/** Whether the vCPU's batch stopped at an access to one of its VM's passthrough ports. */
export function isDirectAccess(vm: Vm, stopPort: number): boolean {
  return vm.io.isDirect(stopPort);
}

/**
 * Performs the port access the vCPU stopped at on the assigned device and steps past it. Returns
 * the virtual time it took, which the caller adds before re-entering the guest.
 */
export function accessDirectly(vm: Vm, vcpu: Vcpu, costs: CostModel): number {
  const cpu = vcpu.cpu;
  const port = cpu.stopA;
  if (cpu.stopB === 0) cpu.regs[cpu.stopC] = vm.io.readPort(port);
  else vm.io.writePort(port, cpu.stopC);
  cpu.pc += 4;
  vcpu.counters.completed++;
  vm.io.directAccesses++;
  const accessNs = costs.passthroughAccessNs;
  vcpu.counters.cpuNs += accessNs;
  return accessNs;
}
