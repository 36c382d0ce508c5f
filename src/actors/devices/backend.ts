/**
 * The driver domain's backend (host.driverDomain; Xen's split drivers, blkback and netback): a
 * device of the VM `dom0` alone, through which the completions of the other VMs' paravirtual
 * devices pass before those VMs see them.
 *
 *   queued   a guest's paravirtual block device or NIC raised its line: the monitor did not latch
 *            it on the guest's controller (InterruptController.diverted) but queued it here
 *            (`backend.queued`) and raised IRQ_BACKEND on dom0's controller (the event channel).
 *            A completion of the same guest and line that is still waiting absorbs the new one,
 *            as a pending interrupt line does (`backend.queued` with the waiting one's id, and
 *            no new signal to dom0); one already taken does not.
 *   taken    dom0's vCPU reads Port.BACKEND_TAKE: the oldest waiting completion's id
 *            (`backend.taken`), or -1 when none waits. The bundled backend guest then runs
 *            `work BACKEND_NS` for it.
 *   done     dom0 writes the id to Port.BACKEND_DONE (`backend.done`): the monitor latches the
 *            guest's line and delivers it as any device interrupt. An id that is not in service
 *            changes nothing (`backend.invalid`).
 *
 * Bounded: at most one waiting completion per (guest, line) and one in service per (guest, line)
 * whose completion was taken, so 2 x guests x lines in all. Until dom0 runs (it has not started,
 * it is paused or it crashed) the guests' paravirtual I/O does not complete, as under Xen.
 */
import type { EventBus } from '../../core/bus.js';
import { Irq, Port } from '../../core/platform.js';
import { Device } from './device.js';
import type { InterruptController } from './pic.js';

interface Completion {
  readonly id: number;
  readonly vm: string;
  readonly line: number;
}

const PORTS: readonly number[] = [Port.BACKEND_TAKE, Port.BACKEND_DONE];

export class Backend extends Device {
  readonly ports = PORTS;
  /** Waiting completions, oldest first. */
  private readonly waiting: Completion[] = [];
  /** Completions taken by dom0 and not yet done. */
  private readonly inService: Completion[] = [];
  private nextId = 0;
  /** Counters. */
  queued = 0;
  done = 0;

  constructor(
    id: string,
    bus: EventBus,
    private readonly pic: InterruptController,
    /** The most completions that can be outstanding at once (2 x guests x diverted lines). */
    private readonly limit: number,
  ) {
    super(id, 'backend', bus);
  }

  /** A guest's device raised a diverted line: queue its completion for dom0 and signal dom0. */
  enqueue(vm: string, line: number): void {
    const joined = this.waiting.find((completion) => completion.vm === vm && completion.line === line);
    if (joined !== undefined) {
      // Absorbed by the completion still waiting (as a pending line absorbs a second raise).
      this.bus.publish(this.id, 'backend.queued', { id: joined.id, vm, line });
      return;
    }
    if (this.waiting.length + this.inService.length >= this.limit) throw new RangeError(`the backend's queue is over its bound of ${this.limit} completions`);
    const completion = { id: this.nextId++, vm, line };
    this.waiting.push(completion);
    this.queued++;
    this.bus.publish(this.id, 'backend.queued', { id: completion.id, vm, line });
    this.pic.raise(Irq.BACKEND);
    this.bus.publish(this.id, 'irq.raise', { line: Irq.BACKEND });
  }

  read(port: number): number {
    if (port !== Port.BACKEND_TAKE) return 0;
    const completion = this.waiting.shift();
    if (completion === undefined) return -1;
    this.inService.push(completion);
    this.bus.publish(this.id, 'backend.taken', { id: completion.id, vm: completion.vm, line: completion.line });
    return completion.id;
  }

  write(port: number, value: number): void {
    if (port !== Port.BACKEND_DONE) return;
    const index = this.inService.findIndex((completion) => completion.id === value);
    if (index < 0) {
      this.bus.publish(this.id, 'backend.invalid', { id: value, reason: `completion ${value} is not in service` });
      return;
    }
    const [completion] = this.inService.splice(index, 1);
    this.done++;
    this.bus.publish(this.id, 'backend.done', { id: completion.id, vm: completion.vm, line: completion.line });
  }

  snapshot(): Record<string, unknown> {
    return { state: this.lifecycle.state, waiting: this.waiting.length, inService: this.inService.length, queued: this.queued, done: this.done };
  }
}
