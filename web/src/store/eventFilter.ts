/**
 * The event list's filter (by VM, type and time) as an index of matching seqs, kept up to date
 * incrementally as the run streams in. DOM-free (tested under Node).
 */
import { EVENT_TYPES } from '../../../src/core/events.js';
import { Column, upperBound } from './columns.js';
import type { RunData } from './runData.js';

/** VM filter: a VM's index, ALL_VMS, or NO_VM (events of the host, the monitor and the pCPUs). */
export const ALL_VMS = -1;
export const NO_VM = -2;

/** Type filter: '' (all), a group ('exit.*', 'irq.*' ...: a prefix ending in '*'), or one type. */
export interface EventFilter {
  readonly vm: number;
  readonly type: string;
  readonly fromNs: number;
  readonly toNs: number;
}

export const NO_FILTER: EventFilter = { vm: ALL_VMS, type: '', fromNs: 0, toNs: Number.POSITIVE_INFINITY };

export class FilteredEvents {
  private readonly seqs = new Column(Uint32Array, 1024);
  private scanned = 0;
  private readonly typeAllowed: boolean[];

  constructor(
    private readonly run: RunData,
    readonly filter: EventFilter,
  ) {
    this.typeAllowed = EVENT_TYPES.map((type) => matchesType(type, filter.type));
  }

  get isIdentity(): boolean {
    const filter = this.filter;
    return filter.vm === ALL_VMS && filter.type === '' && filter.fromNs <= 0 && filter.toNs === Number.POSITIVE_INFINITY;
  }

  /** Scans events read since the last call. */
  update(): void {
    if (this.isIdentity) return;
    const run = this.run;
    const time = run.time.array;
    const type = run.type.array;
    const source = run.source.array;
    const { vm, fromNs, toNs } = this.filter;
    for (let seq = this.scanned; seq < run.count; seq++) {
      const t = time[seq];
      if (t < fromNs || t > toNs) continue;
      if (!this.typeAllowed[type[seq]]) continue;
      if (vm !== ALL_VMS) {
        const eventVm = run.sourceVm[source[seq]];
        if (vm === NO_VM ? eventVm !== -1 : eventVm !== vm) continue;
      }
      this.seqs.push(seq);
    }
    this.scanned = run.count;
  }

  get length(): number {
    return this.isIdentity ? this.run.count : this.seqs.length;
  }

  seqAt(row: number): number {
    return this.isIdentity ? row : this.seqs.get(row);
  }

  /** The row of the last listed event at or before `seq` (-1 if none). */
  rowAtOrBefore(seq: number): number {
    if (this.isIdentity) return Math.min(seq, this.run.count - 1);
    return upperBound(this.seqs.array, this.seqs.length, seq) - 1;
  }
}

export function matchesType(type: string, pattern: string): boolean {
  if (pattern === '') return true;
  if (pattern.endsWith('*')) return type.startsWith(pattern.slice(0, -1));
  return type === pattern;
}
