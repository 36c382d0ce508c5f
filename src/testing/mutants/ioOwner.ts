/**
 * io-owner: an I/O port not checked against its owner. A VM's access to a port or MMIO address
 * that none of its own devices answers goes to its neighbour's device there.
 */
import { IoBus } from '../../actors/devices/ioBus.js';
import { neighbourOf, type Mutant } from './shared.js';

/** Wraps `bus` so that what it does not answer goes to `other`'s own devices (the standard methods). */
function fallThrough(bus: IoBus, other: IoBus): void {
  const standard = IoBus.prototype;
  bus.readPort = (port) => standard.readPort.call(bus.answers(port) ? bus : other, port);
  bus.writePort = (port, value) => standard.writePort.call(bus.answers(port) ? bus : other, port, value);
  bus.readMmio = (address) => standard.readMmio.call(bus.answers(address, true) ? bus : other, address);
  bus.writeMmio = (address, value) => standard.writeMmio.call(bus.answers(address, true) ? bus : other, address, value);
}

export const ioOwner: Mutant = {
  name: 'io-owner',
  bug: "an I/O port not checked against its owner: a VM's access to a device that does not answer goes to another VM's device",
  caughtBy: 'resource-control',
  parts: {
    name: 'io-owner',
    wire(vms) {
      for (const vm of vms) {
        const neighbour = neighbourOf(vms, vm);
        if (neighbour !== vm) fallThrough(vm.io, neighbour.io);
      }
    },
  },
};
