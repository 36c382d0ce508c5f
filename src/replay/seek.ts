/**
 * The state at a point of a log: jump to the nearest checkpoint at or before it (LogFile's
 * binary search over byte offsets), build the state the checkpoint carries, and fold the events
 * from there to the point in one stretch. A jump costs a few small reads plus at most one
 * checkpoint interval of events, whatever the log's length.
 */
import type { SimEvent } from '../core/events.js';
import { LogError } from '../core/log/reader.js';
import { CheckpointFormatError, stateFromCheckpoint } from './fold/checkpoint.js';
import { foldEvents, type FoldEngine } from './fold/fold.js';
import { EMPTY_STATE, type InspectState } from './fold/state.js';
import type { LineRecord, LogFile, ReadStart } from './logFile.js';

export interface StateAt {
  readonly state: InspectState;
  /** The event at the point (the last one folded). */
  readonly event: SimEvent;
  /** Where the fold started: the checkpoint's seq (the first event folded), 0 from the top. */
  readonly from: number;
  /** How many events were folded. */
  readonly folded: number;
  /** The records after the point, to read on from (a cursor steps with it). */
  readonly rest: Iterator<LineRecord>;
}

export class PointError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'PointError';
  }
}

/** The base state and where to read from, for a fold that must include event `firstSeq`. */
function startFor(file: LogFile, target: { seq?: number; time?: number }): { base: InspectState; start: ReadStart | undefined } {
  const start = file.startBefore(target);
  if (start.checkpoint === undefined) return { base: EMPTY_STATE, start: undefined };
  try {
    return { base: stateFromCheckpoint(start.checkpoint), start };
  } catch (error) {
    if (error instanceof CheckpointFormatError) return { base: EMPTY_STATE, start: undefined };
    throw error;
  }
}

/** The state after event `seq` (every event up to and including it). */
export function stateAtSeq(file: LogFile, seq: number, engine?: FoldEngine): StateAt {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new PointError(`seq must be a non-negative integer, got ${seq}`);
  // Start at a checkpoint before `seq` (not at it) so at least one event is folded: the state's
  // t is then exactly the event's time.
  const { base, start } = startFor(file, { seq });
  const records = file.records(start);
  let last: SimEvent | undefined;
  let folded = 0;
  function* stretch(): Generator<SimEvent> {
    for (;;) {
      const next = records.next();
      if (next.done === true) return;
      const record = next.value.record;
      if (record.kind !== 'event') continue;
      last = record.event;
      folded++;
      yield record.event;
      if (record.event.seq >= seq) return;
    }
  }
  const state = foldEvents(base, stretch(), { engine: engine ?? 'mutable' });
  if (last === undefined || last.seq < seq) {
    throw new PointError(`seq ${seq} is past the end of the log (its last event is seq ${last?.seq ?? base.seq})`);
  }
  return { state, event: last, from: base.seq + 1, folded, rest: records };
}

/** The state at virtual time `time`: after the last event with `t <= time`. */
export function stateAtTime(file: LogFile, time: number, engine?: FoldEngine): StateAt {
  if (!Number.isSafeInteger(time) || time < 0) throw new PointError(`time must be a non-negative integer of ns, got ${time}`);
  const seq = lastSeqAtOrBefore(file, time);
  if (seq === undefined) throw new PointError(`no event at or before ${time} ns`);
  return stateAtSeq(file, seq, engine);
}

/** The seq of the last event with `t <= time` (reads from the checkpoint before `time`). */
export function lastSeqAtOrBefore(file: LogFile, time: number): number | undefined {
  const start = file.startBefore({ time });
  let seq = start.checkpoint === undefined ? undefined : start.seq - 1;
  for (const { record } of file.records(start)) {
    if (record.kind !== 'event') continue;
    if (record.event.t > time) break;
    seq = record.event.seq;
  }
  if (seq !== undefined && seq < 0) return undefined;
  return seq;
}

/** The last event's seq (reads from the last checkpoint to the end). */
export function lastSeq(file: LogFile): number {
  const start = file.startBefore({ seq: Number.MAX_SAFE_INTEGER });
  let seq = start.seq - 1;
  for (const { record } of file.records(start)) {
    if (record.kind === 'event') seq = record.event.seq;
    else if (record.kind === 'end') return record.end.events - 1;
  }
  if (seq < 0) throw new LogError(file.name, 2, 'the log has no events');
  return seq;
}
