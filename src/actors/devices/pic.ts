/**
 * The VM's virtual interrupt controller (an 8259-like PIC reduced to its essentials): lines are
 * latched as pending when raised, masked lines wait, a delivered line is in service until the
 * guest writes its number to the end-of-interrupt port. The monitor asks it at each VM entry
 * which line, if any, to inject; a raised line reaches the monitor as an `irq.raise` event.
 * Each line goes to one vCPU, vCPU 0 unless the guest routes it elsewhere (Port.PIC_ROUTE, as
 * an IO-APIC redirection entry names a destination CPU).
 */
import type { EventBus } from '../../core/bus.js';
import { IRQ_LINES } from '../../core/isa/opcodes.js';
import { Port } from '../../core/platform.js';
import { Device, savedNumber, savedNumbers } from './device.js';

export class InterruptController extends Device {
  readonly ports = [Port.PIC_EOI, Port.PIC_MASK, Port.PIC_PENDING, Port.PIC_ROUTE];
  pending = 0;
  mask = 0;
  inService = 0;
  /**
   * Lines a driver domain's backend delivers (host.driverDomain): a device's raise of one of them
   * is not latched here; the monitor queues it for dom0 and latches it (`latch`) when dom0's
   * backend has done its work. 0 (none) without a driver domain.
   */
  diverted = 0;
  /** Diverted lines latched by `latch` and not yet injected (the log's fold shows them; 0 without a driver domain). */
  latched = 0;
  /** The vCPU each line goes to (its index in the VM). */
  readonly routes = new Int32Array(IRQ_LINES);

  /** The lines routed to each vCPU, as bit masks (all to vCPU 0 at reset). */
  private readonly linesOf: Int32Array;

  constructor(id: string, bus: EventBus, vcpus = 1) {
    super(id, 'pic', bus);
    this.linesOf = new Int32Array(Math.max(1, vcpus));
    this.linesOf[0] = (1 << IRQ_LINES) - 1;
  }

  private route(line: number, vcpu: number): void {
    this.linesOf[this.routes[line]] &= ~(1 << line);
    this.routes[line] = vcpu;
    this.linesOf[vcpu] |= 1 << line;
  }

  /** The vCPU a line goes to. */
  routeOf(line: number): number {
    return this.routes[line];
  }

  raise(line: number): void {
    if (line < 0 || line >= IRQ_LINES) throw new RangeError(`bad interrupt line ${line}`);
    if ((this.diverted & (1 << line)) !== 0) return;
    this.pending |= 1 << line;
  }

  /** Latches a line as pending even if it is diverted (the driver domain's backend finished its work). */
  latch(line: number): void {
    if (line < 0 || line >= IRQ_LINES) throw new RangeError(`bad interrupt line ${line}`);
    this.pending |= 1 << line;
    this.latched |= 1 << line;
  }

  /** The lowest pending, unmasked line not already in service (of those routed to `vcpu`), or -1. */
  deliverable(vcpu = 0): number {
    const ready = this.pending & ~this.mask & ~this.inService & (this.linesOf[vcpu] ?? 0);
    if (ready === 0) return -1;
    return 31 - Math.clz32(ready & -ready);
  }

  /** Marks a line as delivered to the vCPU. */
  acknowledge(line: number): void {
    this.pending &= ~(1 << line);
    this.latched &= ~(1 << line);
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
    } else if (port === Port.PIC_ROUTE) {
      // (vcpu << 8) | line; a line or a vCPU the VM does not have is ignored.
      const line = value & 0xff;
      const vcpu = value >> 8;
      if (line < IRQ_LINES && vcpu >= 0 && vcpu < this.linesOf.length) this.route(line, vcpu);
    }
  }

  override saveState(): Record<string, unknown> {
    return { pending: this.pending, mask: this.mask, inService: this.inService, routes: [...this.routes] };
  }

  override loadState(state: Readonly<Record<string, unknown>>): void {
    this.pending = savedNumber(state, 'pending');
    this.mask = savedNumber(state, 'mask');
    this.inService = savedNumber(state, 'inService');
    savedNumbers(state, 'routes').forEach((vcpu, line) => {
      if (line < IRQ_LINES && vcpu >= 0 && vcpu < this.linesOf.length) this.route(line, vcpu);
    });
  }

  snapshot(): Record<string, unknown> {
    return { state: this.lifecycle.state, pending: this.pending, mask: this.mask, inService: this.inService, routes: [...this.routes] };
  }
}
