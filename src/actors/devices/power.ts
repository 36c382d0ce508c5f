/**
 * The VM's power-management port (ACPI-like): any write asks the monitor to power the VM off.
 */
import type { EventBus } from '../../core/bus.js';
import { Port } from '../../core/platform.js';
import { Device } from './device.js';

export class PowerControl extends Device {
  readonly ports = [Port.POWER];
  onPowerOff: () => void = () => {};

  constructor(id: string, bus: EventBus) {
    super(id, 'power', bus);
  }

  read(): number {
    return 0;
  }

  write(): void {
    this.onPowerOff();
  }

  snapshot(): Record<string, unknown> {
    return { state: this.lifecycle.state };
  }
}
