/**
 * Time travel: the state of the whole system after any event, computed with the replay fold
 * (src/replay/fold: the same pure reducers `vmmsim inspect` uses), so what the page shows at seq N
 * is what `vmmsim inspect LOG --at N` reports.
 *
 * The fold is kept as snapshots every SNAPSHOT_EVERY events, built as the run streams in; the
 * state at seq N is the snapshot before it plus at most SNAPSHOT_EVERY - 1 events. Stepping
 * forward folds only the events stepped over.
 */
import { foldEvents } from '../../../src/replay/fold/fold.js';
import { EMPTY_STATE, type InspectState } from '../../../src/replay/fold/state.js';
import type { RunData } from './runData.js';

export type { InspectState } from '../../../src/replay/fold/state.js';

export const SNAPSHOT_EVERY = 4096;

export class TimeTravel {
  /** snapshots[k] is the state after event k * every - 1 (snapshots[0]: before any). */
  private readonly snapshots: InspectState[] = [EMPTY_STATE];

  constructor(
    private readonly run: RunData,
    private readonly every = SNAPSHOT_EVERY,
  ) {}

  /** Builds the snapshots the events read so far allow. Call after each ingest. */
  update(): void {
    while (this.snapshots.length * this.every <= this.run.count) {
      const k = this.snapshots.length;
      const events = this.run.events((k - 1) * this.every, k * this.every);
      this.snapshots.push(foldEvents(this.snapshots[k - 1], events, { engine: 'mutable' }));
    }
  }

  /** The state after event `seq` (-1: before the first). */
  stateAt(seq: number): InspectState {
    const last = Math.min(seq, this.run.count - 1);
    if (last < 0) return EMPTY_STATE;
    const k = Math.min(Math.floor((last + 1) / this.every), this.snapshots.length - 1);
    return foldEvents(this.snapshots[k], this.run.events(k * this.every, last + 1));
  }

  /** The state after `seq`, from a state at or before it (forward steps fold only what they pass). */
  advance(from: InspectState, seq: number): InspectState {
    const last = Math.min(seq, this.run.count - 1);
    if (last < from.seq) return this.stateAt(last);
    if (last === from.seq) return from;
    if (last - from.seq > this.every) return this.stateAt(last);
    return foldEvents(from, this.run.events(from.seq + 1, last + 1));
  }
}
