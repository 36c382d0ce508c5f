/**
 * A VM's I/O bus: port numbers and MMIO addresses to the device that claims them. An address no
 * device claims reads as the open bus value and ignores writes, as on real hardware.
 */
import { OPEN_BUS } from '../../core/platform.js';
import type { Device } from './device.js';

/**
 * Every port any bus has seen, numbered in the order first seen: a bus keeps its devices in an
 * array by that number. One shared map stays in the cache; a map per VM (a thousand VMs, a port
 * access per exit) missed it at every access. Which number a port gets is never observable.
 */
const PORT_SLOTS = new Map<number, number>();

function portSlot(port: number): number {
  let slot = PORT_SLOTS.get(port);
  if (slot === undefined) {
    slot = PORT_SLOTS.size;
    PORT_SLOTS.set(port, slot);
  }
  return slot;
}

export class IoBus {
  /** The devices by port slot (see PORT_SLOTS). */
  private readonly bySlot: (Device | undefined)[] = [];
  private readonly mmio = new Map<number, Device>();
  readonly devices: Device[] = [];
  /** Ports of passthrough devices: the guest reaches them without an exit (monitor/passthrough.ts). */
  private readonly direct = new Set<number>();
  /** Guest accesses to passthrough ports (none of them an exit). */
  directAccesses = 0;

  /** Attaches a device; `direct`: it is assigned to the VM (passthrough), its ports do not exit. */
  attach(device: Device, direct = false): void {
    for (const port of device.ports) {
      if (this.devicePort(port) !== undefined) throw new Error(`port ${port} is claimed twice`);
      const slot = portSlot(port);
      while (this.bySlot.length <= slot) this.bySlot.push(undefined);
      this.bySlot[slot] = device;
      if (direct) this.direct.add(port);
    }
    for (const address of device.mmio) {
      if (this.mmio.has(address)) throw new Error(`MMIO address ${address} is claimed twice`);
      this.mmio.set(address, device);
    }
    this.devices.push(device);
  }

  /** Whether a port belongs to a passthrough device (an access to it is not an exit). */
  isDirect(port: number): boolean {
    // Asked at every port access: most VMs have no passthrough device, and the size is read first.
    return this.direct.size !== 0 && this.direct.has(port);
  }

  /** Reads a port; an address no ready device claims reads as the open bus. */
  readPort(port: number): number {
    const device = this.devicePort(port);
    return device !== undefined && device.ready ? device.read(port) : OPEN_BUS;
  }

  /** Writes a port; a write no ready device claims is ignored, as on real hardware. */
  writePort(port: number, value: number): void {
    const device = this.devicePort(port);
    if (device !== undefined && device.ready) device.write(port, value);
  }

  private devicePort(port: number): Device | undefined {
    const slot = PORT_SLOTS.get(port);
    return slot === undefined ? undefined : this.bySlot[slot];
  }

  readMmio(address: number): number {
    const device = this.mmio.get(address);
    return device !== undefined && device.ready ? device.read(address) : OPEN_BUS;
  }

  writeMmio(address: number, value: number): void {
    const device = this.mmio.get(address);
    if (device !== undefined && device.ready) device.write(address, value);
  }

  /** Whether a ready device of this bus answers a port (`mmio`: an MMIO address). */
  answers(address: number, mmio = false): boolean {
    const device = mmio ? this.mmio.get(address) : this.devicePort(address);
    return device !== undefined && device.ready;
  }
}
