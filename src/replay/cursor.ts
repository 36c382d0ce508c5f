/**
 * A cursor over a log: a position (an event's seq) and the state there. It seeks by seq or time
 * (nearest checkpoint, then a fold), steps forward by folding the next events onto the state it
 * holds, and back by seeking again (a fold of at most one checkpoint interval).
 */
import type { SimEvent } from '../core/events.js';
import { foldEvents } from './fold/fold.js';
import type { InspectState } from './fold/state.js';
import type { LineRecord, LogFile } from './logFile.js';
import { PointError, lastSeq, stateAtSeq, stateAtTime, type StateAt } from './seek.js';

export class LogCursor {
  private current: StateAt;
  private last: number | undefined;

  /** Starts at the first event (seq 0). */
  constructor(private readonly file: LogFile) {
    this.current = stateAtSeq(file, 0);
  }

  /** The seq of the event the cursor is at. */
  get seq(): number {
    return this.current.event.seq;
  }

  /** Virtual time of that event (ns). */
  get t(): number {
    return this.current.event.t;
  }

  /** The event the cursor is at. */
  get event(): SimEvent {
    return this.current.event;
  }

  /** The state after that event (frozen). */
  get state(): InspectState {
    return this.current.state;
  }

  /** The log's last event's seq. */
  get lastSeq(): number {
    this.last ??= lastSeq(this.file);
    return this.last;
  }

  /** Moves to event `seq` (RangeError past the end). */
  seek(seq: number): this {
    this.current = stateAtSeq(this.file, seq);
    return this;
  }

  /** Moves to the last event at or before virtual time `time` (ns). */
  seekTime(time: number): this {
    this.current = stateAtTime(this.file, time);
    return this;
  }

  /** Moves `count` events forward; returns false (and stays) when the log ends first. */
  next(count = 1): boolean {
    if (!Number.isSafeInteger(count) || count < 0) throw new PointError(`next: count must be a non-negative integer, got ${count}`);
    if (count === 0) return true;
    const events: SimEvent[] = [];
    const rest = this.current.rest;
    while (events.length < count) {
      const next: IteratorResult<LineRecord> = rest.next();
      if (next.done === true) break;
      if (next.value.record.kind === 'event') events.push(next.value.record.event);
    }
    if (events.length < count) {
      // The log ended: stay where we were (the reader has moved on, so seek again).
      this.current = stateAtSeq(this.file, this.current.event.seq);
      return false;
    }
    const state = foldEvents(this.current.state, events);
    const event = events[events.length - 1];
    this.current = { state, event, from: this.current.from, folded: this.current.folded + events.length, rest };
    return true;
  }

  /** Moves `count` events back; returns false (and stays) before the first event. */
  prev(count = 1): boolean {
    if (!Number.isSafeInteger(count) || count < 0) throw new PointError(`prev: count must be a non-negative integer, got ${count}`);
    const target = this.seq - count;
    if (target < 0) return false;
    this.seek(target);
    return true;
  }
}
