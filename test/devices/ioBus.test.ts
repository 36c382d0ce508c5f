/**
 * The I/O bus: one device per port and MMIO address, the open bus elsewhere, nothing reaches a
 * device that is not ready. (Written for the StrykerJS run of issue 11: each line's mutant
 * survived the isolation properties, which never claim an address twice nor use MMIO.)
 */
import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/actors/devices/ioBus.js';
import { Device } from '../../src/actors/devices/device.js';
import { EventBus } from '../../src/core/bus.js';
import { Mmio, OPEN_BUS } from '../../src/core/platform.js';
import { guestVm, runChecked, testScenario } from '../../src/testing/index.js';

class Register extends Device {
  value = 0;
  constructor(
    bus: EventBus,
    readonly ports: readonly number[],
    override readonly mmio: readonly number[] = [],
  ) {
    super('dev/test', 'test', bus);
  }
  read(): number {
    return this.value;
  }
  write(_address: number, value: number): void {
    this.value = value;
  }
  snapshot(): Record<string, unknown> {
    return { value: this.value };
  }
}

describe('the I/O bus', () => {
  const events = new EventBus({ now: 0 });

  it('refuses a port or an MMIO address claimed twice', () => {
    const bus = new IoBus();
    bus.attach(new Register(events, [0x10], [0x5000]));
    expect(() => bus.attach(new Register(events, [0x10]))).toThrow('port 16 is claimed twice');
    expect(() => bus.attach(new Register(events, [0x11], [0x5000]))).toThrow('MMIO address 20480 is claimed twice');
  });

  it('reaches a ready device by port and by MMIO address; a failed one, or none, is the open bus and loses writes', () => {
    const bus = new IoBus();
    const device = new Register(events, [0x10], [0x5000]);
    bus.attach(device);
    device.realize();
    bus.writePort(0x10, 7);
    expect(bus.readPort(0x10)).toBe(7);
    bus.writeMmio(0x5000, 9);
    expect(bus.readMmio(0x5000)).toBe(9);
    expect(bus.readPort(0x11)).toBe(OPEN_BUS);
    expect(bus.readMmio(0x5001)).toBe(OPEN_BUS);
    bus.writeMmio(0x5001, 1);
    expect(device.value).toBe(9);
    expect(bus.answers(0x10)).toBe(true);
    expect(bus.answers(0x5000, true)).toBe(true);
    expect(bus.answers(0x5000)).toBe(false);
    device.fail();
    expect(bus.readPort(0x10)).toBe(OPEN_BUS);
    expect(bus.readMmio(0x5000)).toBe(OPEN_BUS);
    bus.writePort(0x10, 1);
    bus.writeMmio(0x5000, 2);
    expect(device.value).toBe(9);
    expect(bus.answers(0x10)).toBe(false);
    expect(bus.isDirect(0x10)).toBe(false);
  });

  it('knows the ports of an assigned (passthrough) device', () => {
    const bus = new IoBus();
    bus.attach(new Register(events, [0x20, 0x21]), true);
    bus.attach(new Register(events, [0x30]));
    expect([bus.isDirect(0x20), bus.isDirect(0x21), bus.isDirect(0x30), bus.isDirect(0x40)]).toEqual([true, true, false, false]);
  });

  it("a guest's MMIO console: writes print, the status reads, an unclaimed address reads the open bus", () => {
    const source = `
_start:
  movi r1, 72
  movi r2, MMIO_CONSOLE_DATA
  st r1, [r2]
  movi r1, 105
  st r1, [r2]
  movi r2, MMIO_CONSOLE_STATUS
  ld r3, [r2]
  st r3, [0x3000]
  movi r2, ${Mmio.CONSOLE_STATUS + 5}
  ld r3, [r2]
  st r3, [0x3001]
  out PORT_POWER, r0
  hlt
`;
    const run = runChecked(testScenario([guestVm('g', source)]));
    const vm = run.simulation.vms[0];
    expect(vm.console.transcript).toBe('Hi\n');
    expect(vm.memory.read(0x3000)).toBe(0);
    expect(vm.memory.read(0x3001)).toBe(OPEN_BUS);
    expect(run.events.filter((event) => event.type === 'exit.mmio')).toHaveLength(4);
  });
});
