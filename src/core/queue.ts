/**
 * The kernel's pending work: a binary min-heap ordered by (time, seq). `seq` is a global counter
 * handed out by the kernel, so two entries due at the same instant always run in the order they
 * were scheduled. Entries are plain data (a target id, a kind and an argument), which keeps them
 * serialisable for checkpoints.
 */
import type { Nanoseconds } from './time.js';

export interface QueueEntry {
  readonly time: Nanoseconds;
  readonly seq: number;
  /** Which component handles the entry (an index into the kernel's handler table). */
  readonly target: number;
  /** What the component should do; meaning is private to the component. */
  readonly kind: number;
  /** An argument for the component (an id, a generation counter...). */
  readonly arg: number;
}

export class EventQueue {
  private readonly heap: QueueEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The earliest entry, or undefined when empty. */
  peek(): QueueEntry | undefined {
    return this.heap[0];
  }

  /** Time of the earliest entry, or Infinity when empty. */
  peekTime(): number {
    const top = this.heap[0];
    return top === undefined ? Infinity : top.time;
  }

  push(entry: QueueEntry): void {
    const heap = this.heap;
    let index = heap.length;
    heap.push(entry);
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (before(parent, entry)) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = entry;
  }

  pop(): QueueEntry | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop() as QueueEntry;
    const length = heap.length;
    if (length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && before(heap[right], heap[left]) ? right : left;
      if (before(last, heap[child])) break;
      heap[index] = heap[child];
      index = child;
    }
    heap[index] = last;
    return top;
  }

  /** All entries in (time, seq) order, without disturbing the heap (for checkpoints). */
  toSortedArray(): QueueEntry[] {
    return [...this.heap].sort((x, y) => (before(x, y) ? -1 : 1));
  }

  clear(): void {
    this.heap.length = 0;
  }
}

function before(x: QueueEntry, y: QueueEntry): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}
