/**
 * Round-robin: one global FIFO run queue shared by all physical CPUs, a fixed quantum. A vCPU
 * that wakes or is preempted goes to the tail. At the end of a slice the running vCPU gives up
 * the CPU only if someone is waiting. The queue is a ring buffer: O(1) enqueue and pick.
 */
import type { PolicyOptions, Pick, SchedEntity, SchedulingPolicy } from './policy.js';

export class RoundRobinPolicy implements SchedulingPolicy {
  readonly name = 'round-robin';
  private queue: (SchedEntity | undefined)[] = new Array(16);
  private head = 0;
  private count = 0;
  private readonly queued = new Set<number>();

  constructor(private readonly options: PolicyOptions) {
    if (!(options.quantumNs > 0)) throw new RangeError('round-robin needs a positive quantum');
  }

  get waiting(): number {
    return this.count;
  }

  enqueue(entity: SchedEntity): void {
    if (this.queued.has(entity.key)) return;
    if (this.count === this.queue.length) this.grow();
    this.queue[(this.head + this.count) % this.queue.length] = entity;
    this.count++;
    this.queued.add(entity.key);
  }

  remove(entity: SchedEntity): void {
    if (!this.queued.delete(entity.key)) return;
    const kept: SchedEntity[] = [];
    for (let index = 0; index < this.count; index++) {
      const item = this.queue[(this.head + index) % this.queue.length] as SchedEntity;
      if (item.key !== entity.key) kept.push(item);
    }
    this.queue.fill(undefined);
    kept.forEach((item, index) => (this.queue[index] = item));
    this.head = 0;
    this.count = kept.length;
  }

  pick(): Pick | undefined {
    if (this.count === 0) return undefined;
    const entity = this.queue[this.head] as SchedEntity;
    this.queue[this.head] = undefined;
    this.head = (this.head + 1) % this.queue.length;
    this.count--;
    this.queued.delete(entity.key);
    return { entity, sliceNs: this.options.quantumNs };
  }

  shouldPreempt(): boolean {
    return this.count > 0;
  }

  extend(): number {
    return this.options.quantumNs;
  }

  charge(): void {}

  snapshot(): unknown {
    const ids: string[] = [];
    for (let index = 0; index < this.count; index++) ids.push((this.queue[(this.head + index) % this.queue.length] as SchedEntity).id);
    return { policy: this.name, runQueue: ids };
  }

  private grow(): void {
    const bigger: (SchedEntity | undefined)[] = new Array(this.queue.length * 2);
    for (let index = 0; index < this.count; index++) bigger[index] = this.queue[(this.head + index) % this.queue.length];
    this.queue = bigger;
    this.head = 0;
  }
}
