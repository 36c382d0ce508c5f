/**
 * The request queue: a paravirtual device through which a workload's requests reach the guest
 * that serves them (the bundled `server` guest). The monitor's arrival driver (src/actors/workload/)
 * fills it; guest workers take requests, run them and complete them:
 *
 *   arrival   the request waits in the device's FIFO queue of `depth` requests; a full queue
 *             refuses it (`req.refused`, counted)
 *   take      worker w reads Port.REQ_TAKE + w: the head request gets a tag (0..REQ_TAGS-1) and
 *             its service starts (`req.started`); -1 when none waits, and the worker is idle:
 *             the next arrival routes IRQ_REQUEST to that worker's vCPU and raises it
 *   size      worker w reads Port.REQ_SIZE + w: the size (ns of work) of the request it took last
 *   done      the worker writes the tag to Port.REQ_DONE: the request is complete (`req.done`)
 *
 * One port per worker makes take-then-size race-free between vCPUs without a memory mailbox
 * (the guest computes its port from the `vcpu` CSR and uses `inr`). A tag that is not in service
 * is reported (`req.invalid`) and changes nothing. Every structure is bounded: the queue by
 * `depth`, requests in service by REQ_TAGS.
 */
import type { EventBus } from '../../core/bus.js';
import { Irq, Port, REQ_TAGS, REQ_WORKERS } from '../../core/platform.js';
import { Device } from './device.js';
import type { InterruptController } from './pic.js';

/** The largest queue a scenario may ask for. */
export const REQUEST_QUEUE_LIMIT = 1 << 20;

const PORTS: number[] = [];
for (let worker = 0; worker < REQ_WORKERS; worker++) PORTS.push(Port.REQ_TAKE + worker, Port.REQ_SIZE + worker);
PORTS.push(Port.REQ_DONE, Port.REQ_NOTIFY, Port.REQ_QUEUED);

export class RequestQueue extends Device {
  readonly ports: readonly number[] = PORTS;
  /** The FIFO queue, a ring of request ids and sizes. */
  private readonly ids: Float64Array;
  private readonly sizes: Float64Array;
  private head = 0;
  private count = 0;
  /** Requests in service, by tag: the request's id (-1: the tag is free). */
  private readonly tagIds = new Float64Array(REQ_TAGS).fill(-1);
  private readonly freeTags: number[] = [];
  /** The size of the request each worker took last. */
  private readonly lastSize = new Float64Array(REQ_WORKERS);
  /** Bit w: worker w found the queue empty and waits for the next arrival. */
  private idleWorkers = 0;
  /** Interrupt on every arrival (a processor-sharing server wants to hear of each). */
  private notifyAll = false;
  /** Counters. */
  arrived = 0;
  refusedCount = 0;
  completed = 0;
  inService = 0;

  constructor(
    id: string,
    bus: EventBus,
    private readonly pic: InterruptController,
    readonly depth: number,
  ) {
    super(id, 'requests', bus);
    if (!Number.isInteger(depth) || depth < 1 || depth > REQUEST_QUEUE_LIMIT) throw new RangeError(`request queue depth must be an integer from 1 to ${REQUEST_QUEUE_LIMIT}, got ${depth}`);
    this.ids = new Float64Array(depth);
    this.sizes = new Float64Array(depth);
    for (let tag = REQ_TAGS - 1; tag >= 0; tag--) this.freeTags.push(tag);
  }

  /** Requests waiting (not yet taken). */
  get queued(): number {
    return this.count;
  }

  /**
   * An arrival (from the workload driver): queued, or refused when the queue is full or the
   * device is stopped or failed. Returns whether it was queued.
   */
  arrive(id: number, sizeNs: number): boolean {
    const state = this.lifecycle.state;
    if (this.count >= this.depth || state === 'stopped' || state === 'failed') {
      this.refusedCount++;
      this.bus.publish(this.id, 'req.refused', { id, reason: this.count >= this.depth ? `the request queue is full (${this.depth} requests)` : `the request queue is ${state}` });
      return false;
    }
    const slot = (this.head + this.count) % this.depth;
    this.ids[slot] = id;
    this.sizes[slot] = sizeNs;
    this.count++;
    this.arrived++;
    if (this.idleWorkers !== 0) {
      // Wake the lowest idle worker: the line goes to its vCPU.
      const worker = 31 - Math.clz32(this.idleWorkers & -this.idleWorkers);
      this.idleWorkers &= ~(1 << worker);
      this.pic.write(Port.PIC_ROUTE, (worker << 8) | Irq.REQUEST);
      this.raise();
    } else if (this.notifyAll) {
      this.raise();
    }
    return true;
  }

  read(port: number): number {
    if (port >= Port.REQ_TAKE && port < Port.REQ_TAKE + REQ_WORKERS) return this.take(port - Port.REQ_TAKE);
    if (port >= Port.REQ_SIZE && port < Port.REQ_SIZE + REQ_WORKERS) return this.lastSize[port - Port.REQ_SIZE];
    if (port === Port.REQ_QUEUED) return this.count;
    return 0;
  }

  write(port: number, value: number): void {
    if (port === Port.REQ_DONE) this.done(value);
    else if (port === Port.REQ_NOTIFY) this.notifyAll = value !== 0;
  }

  private take(worker: number): number {
    if (this.count === 0 || this.freeTags.length === 0) {
      this.idleWorkers |= 1 << worker;
      return -1;
    }
    this.idleWorkers &= ~(1 << worker);
    const id = this.ids[this.head];
    const size = this.sizes[this.head];
    this.head = (this.head + 1) % this.depth;
    this.count--;
    const tag = this.freeTags.pop() as number;
    this.tagIds[tag] = id;
    this.lastSize[worker] = size;
    this.inService++;
    this.bus.publish(this.id, 'req.started', { id, worker, serviceNs: size });
    return tag;
  }

  private done(tag: number): void {
    const id = tag >= 0 && tag < REQ_TAGS ? this.tagIds[tag] : -1;
    if (id < 0) {
      this.bus.publish(this.id, 'req.invalid', { tag, reason: `tag ${tag} is not a request in service` });
      return;
    }
    this.tagIds[tag] = -1;
    this.freeTags.push(tag);
    this.inService--;
    this.completed++;
    this.bus.publish(this.id, 'req.done', { id });
  }

  private raise(): void {
    this.pic.raise(Irq.REQUEST);
    this.bus.publish(this.id, 'irq.raise', { line: Irq.REQUEST });
  }

  protected override onReset(): void {
    this.idleWorkers = 0;
    this.notifyAll = false;
  }

  snapshot(): Record<string, unknown> {
    return {
      state: this.lifecycle.state,
      depth: this.depth,
      queued: this.count,
      inService: this.inService,
      idleWorkers: this.idleWorkers,
      notifyAll: this.notifyAll,
      arrived: this.arrived,
      refused: this.refusedCount,
      completed: this.completed,
    };
  }
}
