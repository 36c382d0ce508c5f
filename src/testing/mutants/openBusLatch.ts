/**
 * open-bus-latch: stale data returned by an emulated read. A read of a port or MMIO address that no
 * device answers should give the open-bus value; this monitor returns the last value any VM's bus
 * carried instead (one latch shared by every VM's emulated bus), the class of device-emulation
 * info leaks where a register read returns uninitialised or another guest's data.
 */
import { IoBus } from '../../actors/devices/ioBus.js';
import type { Mutant } from './shared.js';

export const openBusLatch: Mutant = {
  name: 'open-bus-latch',
  bug: "stale data from an emulated read: a port no device answers reads as the last value any VM's bus carried, not the open bus",
  caughtBy: 'confidentiality',
  parts: {
    name: 'open-bus-latch',
    wire(vms) {
      const standard = IoBus.prototype;
      let latch: number | undefined;
      for (const vm of vms) {
        const bus = vm.io;
        bus.readPort = (port) => {
          if (!bus.answers(port)) return latch ?? standard.readPort.call(bus, port);
          latch = standard.readPort.call(bus, port);
          return latch;
        };
        bus.writePort = (port, value) => {
          latch = value;
          standard.writePort.call(bus, port, value);
        };
        bus.readMmio = (address) => {
          if (!bus.answers(address, true)) return latch ?? standard.readMmio.call(bus, address);
          latch = standard.readMmio.call(bus, address);
          return latch;
        };
        bus.writeMmio = (address, value) => {
          latch = value;
          standard.writeMmio.call(bus, address, value);
        };
      }
    },
  },
};
