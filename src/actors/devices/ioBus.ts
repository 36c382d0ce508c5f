/**
 * A VM's I/O bus: port numbers and MMIO addresses to the device that claims them. An address no
 * device claims reads as the open bus value and ignores writes, as on real hardware.
 */
import { OPEN_BUS } from '../../core/platform.js';
import type { Device } from './device.js';

export class IoBus {
  private readonly ports = new Map<number, Device>();
  private readonly mmio = new Map<number, Device>();
  readonly devices: Device[] = [];
  /** Ports of passthrough devices: the guest reaches them without an exit (monitor/passthrough.ts). */
  private readonly direct = new Set<number>();
  /** Guest accesses to passthrough ports (none of them an exit). */
  directAccesses = 0;

  /** Attaches a device; `direct`: it is assigned to the VM (passthrough), its ports do not exit. */
  attach(device: Device, direct = false): void {
    for (const port of device.ports) {
      if (this.ports.has(port)) throw new Error(`port ${port} is claimed twice`);
      this.ports.set(port, device);
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
    const device = this.ports.get(port);
    return device !== undefined && device.ready ? device.read(port) : OPEN_BUS;
  }

  /** Writes a port; a write no ready device claims is ignored, as on real hardware. */
  writePort(port: number, value: number): void {
    const device = this.ports.get(port);
    if (device !== undefined && device.ready) device.write(port, value);
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
    const device = (mmio ? this.mmio : this.ports).get(address);
    return device !== undefined && device.ready;
  }
}
