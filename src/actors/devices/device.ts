/**
 * What every device actor shares: an id, a kind, a lifecycle machine, and the port and MMIO
 * addresses it answers. The monitor reaches devices only through the VM's IoBus, keyed by
 * address, as rust-vmm's bus does.
 */
import type { EventBus } from '../../core/bus.js';
import type { DeviceState } from '../../core/events.js';
import { deviceMachine, type DeviceCommand } from '../../machines/deviceMachine.js';
import { Lifecycle } from '../../machines/lifecycle.js';

export interface IoAccessResult {
  /** Value read (reads only). */
  value: number;
}

export abstract class Device {
  readonly lifecycle = new Lifecycle<DeviceState, DeviceCommand>(deviceMachine);

  constructor(
    readonly id: string,
    readonly kind: string,
    protected readonly bus: EventBus,
  ) {}

  /** Port numbers this device answers. */
  abstract readonly ports: readonly number[];
  /** MMIO addresses this device answers. */
  readonly mmio: readonly number[] = [];

  abstract read(address: number): number;
  abstract write(address: number, value: number): void;

  realize(): void {
    if (this.lifecycle.send({ type: 'REALIZE' }) !== undefined) this.bus.publish(this.id, 'device.ready', { kind: this.kind });
  }

  stop(): void {
    if (this.lifecycle.send({ type: 'STOP' }) !== undefined) {
      this.onStop();
      this.bus.publish(this.id, 'device.stopped', { kind: this.kind });
    }
  }

  /** An injected fault: the device stops answering (reads float, writes are lost) until reset. */
  fail(): boolean {
    if (this.lifecycle.send({ type: 'FAIL' }) === undefined) return false;
    this.onFail();
    this.bus.publish(this.id, 'device.failed', { kind: this.kind });
    return true;
  }

  /** Resets the device: it answers again and has forgotten how it was programmed. */
  reset(): boolean {
    if (this.lifecycle.send({ type: 'RESET' }) === undefined) return false;
    this.onReset();
    this.bus.publish(this.id, 'device.reset', { kind: this.kind });
    return true;
  }

  protected onFail(): void {}
  protected onReset(): void {}

  get ready(): boolean {
    return this.lifecycle.state === 'ready';
  }

  protected onStop(): void {}

  /** The device's state for checkpoints. */
  abstract snapshot(): Record<string, unknown>;

  /**
   * The state a VM image carries (docs/migration.md): what the guest can observe of the device,
   * as plain JSON. Devices without such state keep these defaults; the lifecycle travels apart.
   */
  saveState(): Record<string, unknown> {
    return {};
  }

  /** Takes back what saveState gave (a restore, before the VM starts). */
  loadState(_state: Readonly<Record<string, unknown>>): void {}
}

/** A number field of a saved device state (an image the checksums passed still gets its fields checked). */
export function savedNumber(state: Readonly<Record<string, unknown>>, key: string): number {
  const value = state[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`device state: '${key}' is not a number`);
  return value;
}

/** A list of numbers of a saved device state. */
export function savedNumbers(state: Readonly<Record<string, unknown>>, key: string): number[] {
  const value = state[key];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'number' && Number.isFinite(item))) throw new RangeError(`device state: '${key}' is not a list of numbers`);
  return value as number[];
}
