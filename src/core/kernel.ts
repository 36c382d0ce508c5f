/**
 * The discrete-event kernel: one virtual clock, one (time, seq) order, one loop. Components
 * register a handler and get a target number; they schedule work as (time, target, kind, arg)
 * entries. The loop pops the earliest entry, advances the clock to it and calls the handler.
 * Nothing runs concurrently and nothing reads the host's clock.
 *
 * Entries live in two heaps popped as one (time, seq) order (see scheduleCpu for the seq of a lane):
 * `queue` for everything that can affect a guest from outside (device expiries, dispatches,
 * inputs), and `cpuQueue` for the physical CPUs' own time lines (a batch's entry and stop). A
 * vCPU batch runs up to the next entry of `queue` only; batches on different physical CPUs do
 * not cut each other, which would otherwise make them advance in lockstep.
 */
import { EventQueue, type QueueEntry } from './queue.js';

/** A queue entry as the kernel recycles it (see `free`). */
type MutableEntry = { -readonly [K in keyof QueueEntry]: QueueEntry[K] };
import type { Nanoseconds } from './time.js';

/** The seq span of one physical CPU's lane (see scheduleCpu); 1,023 lanes fit below 2^53. */
const LANE_SEQ = 2 ** 40;

export type EntryHandler = (kind: number, arg: number, time: Nanoseconds) => void;

export class Kernel {
  private clock: Nanoseconds = 0;
  private nextSeq = 0;
  private readonly handlers: EntryHandler[] = [];
  private readonly handlerNames: string[] = [];
  readonly queue = new EventQueue();
  /**
   * Entries of the same order as `queue` (they share its seq counter, so the two pop as one heap)
   * that do not bound a batch (see scheduleSoft).
   */
  readonly softQueue = new EventQueue();
  readonly cpuQueue = new EventQueue();
  /**
   * Inputs from outside the simulation. At equal times they run before anything else, so an
   * input applies at the same point whether it was scheduled at the start (replay, a scenario's
   * schedule) or typed in while the run went on.
   */
  readonly inputQueue = new EventQueue();
  private stopRequested = false;
  /** Entries handled so far. */
  steps = 0;

  get now(): Nanoseconds {
    return this.clock;
  }

  /** Registers a component; returns the target number its entries carry. */
  register(name: string, handler: EntryHandler): number {
    this.handlers.push(handler);
    this.handlerNames.push(name);
    return this.handlers.length - 1;
  }

  /**
   * Entries handled and no longer referenced, reused by schedule and scheduleCpu: an entry per
   * event was most of the run's allocation (issue 13's profile). Bounded by the most entries ever
   * pending at once.
   */
  private readonly free: MutableEntry[] = [];

  private entry(time: Nanoseconds, seq: number, target: number, kind: number, arg: number): QueueEntry {
    const entry = this.free.pop();
    if (entry === undefined) return { time, seq, target, kind, arg };
    entry.time = time;
    entry.seq = seq;
    entry.target = target;
    entry.kind = kind;
    entry.arg = arg;
    return entry;
  }

  schedule(time: Nanoseconds, target: number, kind: number, arg = 0): void {
    if (time < this.clock) throw new RangeError(`cannot schedule in the past: ${time} < ${this.clock} (${this.handlerNames[target]})`);
    this.queue.push(this.entry(time, this.nextSeq++, target, kind, arg));
  }

  /**
   * Schedules an entry that runs in the same (time, seq) order as `schedule`'s but does not bound
   * the batches running when it is due: its handler reaches a running guest only by cutting its
   * batch back to now (Monitor.truncate: an interrupt through signal, a preemption), or not at all
   * (a dispatch on an idle physical CPU). Which entries may be soft is the monitor's contract; a
   * batch runs up to the next entry of `queue`, and where a batch is cut changes no event.
   */
  scheduleSoft(time: Nanoseconds, target: number, kind: number, arg = 0): void {
    if (time < this.clock) throw new RangeError(`cannot schedule in the past: ${time} < ${this.clock} (${this.handlerNames[target]})`);
    (this.softAsHard ? this.queue : this.softQueue).push(this.entry(time, this.nextSeq++, target, kind, arg));
  }

  /**
   * Every soft entry bounds batches as `schedule`'s do (engine 0.4.0's rule): for the test that a
   * run's events do not depend on which entries are soft (test/engine/batchCuts.test.ts).
   */
  softAsHard = false;

  /**
   * Schedules an input from outside (see inputQueue). Inputs are numbered apart from other
   * entries and are not part of the pending state a checkpoint records: an input that has not
   * arrived yet is not state, and when it was scheduled (at the start, or when it was typed)
   * must change nothing else.
   */
  scheduleInput(time: Nanoseconds, target: number, kind: number, arg = 0): void {
    if (time < this.clock) throw new RangeError(`cannot schedule in the past: ${time} < ${this.clock} (${this.handlerNames[target]})`);
    this.inputQueue.push({ time, seq: this.nextInputSeq++, target, kind, arg });
  }

  private nextInputSeq = 0;

  /**
   * Schedules an entry on the physical CPUs' time line (see the class comment), in `lane` (the
   * physical CPU). At equal times, entries of `queue` come first, then the lanes in order: so the
   * order never depends on when an entry was scheduled, which for a batch's stop depends on how
   * long the batches were (a lane's seq is `lane x 2^40 + the counter`).
   */
  scheduleCpu(time: Nanoseconds, target: number, kind: number, arg = 0, lane = 0): void {
    if (time < this.clock) throw new RangeError(`cannot schedule in the past: ${time} < ${this.clock} (${this.handlerNames[target]})`);
    this.cpuQueue.push(this.entry(time, (lane + 1) * LANE_SEQ + this.nextSeq++, target, kind, arg));
  }

  /** Moves the clock forward to `time` when nothing is pending before it (an idle stretch). */
  advanceTo(time: Nanoseconds): void {
    if (time < this.clock) throw new RangeError(`cannot move the clock back: ${time} < ${this.clock}`);
    if (Math.min(this.queue.peekTime(), this.softQueue.peekTime(), this.cpuQueue.peekTime(), this.inputQueue.peekTime()) < time) throw new Error('entries are pending before that time');
    this.clock = time;
  }

  /** Asks the loop to stop after the current entry. */
  requestStop(): void {
    this.stopRequested = true;
  }

  /**
   * Runs entries in (time, seq) order until the queue is empty, the next entry is later than
   * `endTime`, or a handler requests a stop. The clock ends at the last handled entry's time, or
   * at `endTime` when the run reached it. `afterEach` runs between entries (checkpoints).
   */
  run(endTime: Nanoseconds, afterEach?: () => void): 'empty' | 'time' | 'stopped' {
    const queue = this.queue;
    const softQueue = this.softQueue;
    const cpuQueue = this.cpuQueue;
    const inputQueue = this.inputQueue;
    const handlers = this.handlers;
    const free = this.free;
    this.stopRequested = false;
    for (;;) {
      let entry = queue.peek();
      let from: EventQueue = queue;
      const soft = softQueue.peek();
      if (soft !== undefined && (entry === undefined || soft.time < entry.time || (soft.time === entry.time && soft.seq < entry.seq))) {
        entry = soft;
        from = softQueue;
      }
      const cpu = cpuQueue.peek();
      if (cpu !== undefined && (entry === undefined || cpu.time < entry.time || (cpu.time === entry.time && cpu.seq < entry.seq))) {
        entry = cpu;
        from = cpuQueue;
      }
      const input = inputQueue.peek();
      if (input !== undefined && (entry === undefined || input.time <= entry.time)) {
        entry = input;
        from = inputQueue;
      }
      if (entry === undefined) return 'empty';
      if (entry.time > endTime) {
        this.clock = endTime;
        return 'time';
      }
      from.pop();
      this.clock = entry.time;
      this.steps++;
      handlers[entry.target](entry.kind, entry.arg, entry.time);
      // Nothing keeps a handled entry (handlers get its fields): it serves a later schedule.
      if (from !== inputQueue) free.push(entry as MutableEntry);
      if (afterEach !== undefined) afterEach();
      if (this.stopRequested) return 'stopped';
    }
  }

  /**
   * Pending entries with their component names, for checkpoints, in the order they will run. A
   * physical CPU's entry shows its lane (the CPU) and its place in the counter, not the lane-coded
   * seq the heap orders by.
   */
  pending(): { time: number; seq: number; lane?: number; target: string; kind: number; arg: number }[] {
    const all = [...this.queue.toSortedArray(), ...this.softQueue.toSortedArray(), ...this.cpuQueue.toSortedArray()].sort((x, y) => x.time - y.time || x.seq - y.seq);
    return all.map((entry) => ({
      time: entry.time,
      seq: entry.seq < LANE_SEQ ? entry.seq : entry.seq % LANE_SEQ,
      ...(entry.seq < LANE_SEQ ? {} : { lane: Math.floor(entry.seq / LANE_SEQ) - 1 }),
      target: this.handlerNames[entry.target],
      kind: entry.kind,
      arg: entry.arg,
    }));
  }
}
