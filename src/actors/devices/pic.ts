/**
 * The VM's virtual interrupt controller (an 8259-like PIC reduced to its essentials): lines are
 * latched as pending when raised, masked lines wait, a delivered line is in service until the
 * guest writes its number to the end-of-interrupt port. The monitor asks it at each VM entry
 * which line, if any, to inject; a raised line reaches the monitor as an `irq.raise` event.
 */
import type { EventBus } from '../../core/bus.js';
import { IRQ_LINES } from '../../core/isa/opcodes.js';
import { Port } from '../../core/platform.js';
import { Device } from './device.js';

export class InterruptController extends Device {
  readonly ports = [Port.PIC_EOI, Port.PIC_MASK, Port.PIC_PENDING];
  pending = 0;
  mask = 0;
  inService = 0;

  constructor(id: string, bus: EventBus) {
    super(id, 'pic', bus);
  }

  raise(line: number): void {
    if (line < 0 || line >= IRQ_LINES) throw new RangeError(`bad interrupt line ${line}`);
    this.pending |= 1 << line;
  }

  /** The lowest pending, unmasked line not already in service, or -1. */
  deliverable(): number {
    const ready = this.pending & ~this.mask & ~this.inService;
    if (ready === 0) return -1;
    return 31 - Math.clz32(ready & -ready);
  }

  /** Marks a line as delivered to the vCPU. */
  acknowledge(line: number): void {
    this.pending &= ~(1 << line);
    this.inService |= 1 << line;
  }

  read(port: number): number {
    if (port === Port.PIC_MASK) return this.mask;
    if (port === Port.PIC_PENDING) return this.pending;
    return 0;
  }

  write(port: number, value: number): void {
    if (port === Port.PIC_EOI) {
      const line = value & (IRQ_LINES - 1);
      if ((this.inService & (1 << line)) !== 0) {
        this.inService &= ~(1 << line);
        this.bus.publish(this.id, 'irq.eoi', { line });
      }
    } else if (port === Port.PIC_MASK) {
      this.mask = value & ((1 << IRQ_LINES) - 1);
    }
  }

  snapshot(): Record<string, unknown> {
    return { state: this.lifecycle.state, pending: this.pending, mask: this.mask, inService: this.inService };
  }
}
