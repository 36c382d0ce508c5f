/**
 * Event queries over a log: filters by VM, type (glob) and range (seq or time), and counts. A
 * range that starts late in the log starts reading at the checkpoint before it.
 */
import { EVENT_TYPES, type SimEvent } from '../core/events.js';
import type { LogFile } from './logFile.js';

/** A point in a log: an event's seq, or a virtual time in ns. */
export type Point = { readonly seq: number } | { readonly time: number };

export interface EventFilter {
  /** Events of this VM: its own, its vCPUs' and its devices' (`src` is `vm/NAME` or below). */
  readonly vm?: string;
  /** A glob on the type (`*` any run of characters, `?` one), or several separated by commas. */
  readonly type?: string;
  /** First point, inclusive. */
  readonly from?: Point;
  /** Last point, inclusive. */
  readonly to?: Point;
}

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

/** A predicate for a type glob; throws FilterError when it matches no known type. */
export function typeMatcher(glob: string): (type: string) => boolean {
  const patterns = glob
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (patterns.length === 0) throw new FilterError(`--type: empty pattern`);
  const expressions = patterns.map((pattern) => {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    const expression = new RegExp(`^${source}$`);
    if (!EVENT_TYPES.some((type) => expression.test(type))) {
      throw new FilterError(`type pattern '${pattern}' matches no event type (types: ${EVENT_TYPES.join(', ')})`);
    }
    return expression;
  });
  const known = new Set(EVENT_TYPES.filter((type) => expressions.some((expression) => expression.test(type))));
  return (type) => known.has(type as SimEvent['type']);
}

/** The events that pass the filter, in seq order. */
export function* queryEvents(file: LogFile, filter: EventFilter = {}): Generator<SimEvent> {
  const matchType = filter.type === undefined ? undefined : typeMatcher(filter.type);
  const vmPrefix = filter.vm === undefined ? undefined : `vm/${filter.vm}/`;
  const vmId = filter.vm === undefined ? undefined : `vm/${filter.vm}`;
  const from = filter.from;
  const to = filter.to;
  const start = from === undefined ? undefined : file.startBefore('seq' in from ? { seq: from.seq } : { time: from.time });
  for (const { record } of file.records(start)) {
    if (record.kind !== 'event') continue;
    const event = record.event;
    if (from !== undefined && ('seq' in from ? event.seq < from.seq : event.t < from.time)) continue;
    if (to !== undefined && ('seq' in to ? event.seq > to.seq : event.t > to.time)) return;
    if (vmPrefix !== undefined && event.src !== vmId && !event.src.startsWith(vmPrefix)) continue;
    if (matchType !== undefined && !matchType(event.type)) continue;
    yield event;
  }
}

export interface EventStats {
  readonly events: number;
  /** First and last event counted (undefined when none). */
  readonly first: { readonly seq: number; readonly t: number } | undefined;
  readonly last: { readonly seq: number; readonly t: number } | undefined;
  /** Counts by type, by VM (events from outside any VM under `-`), by exit reason; each sorted by count. */
  readonly byType: Readonly<Record<string, number>>;
  readonly byVm: Readonly<Record<string, number>>;
  readonly byExitReason: Readonly<Record<string, number>>;
  /**
   * Page-fault exits by cause: a paging guest's TLB fills and faults (shadow-fill, pt-write,
   * guest-fault), the host's (cow, demand, swap-in), and `ept-violation` for an access outside
   * the VM's memory.
   */
  readonly byPageFaultCause: Readonly<Record<string, number>>;
}

/** Counts of the events that pass the filter. */
export function eventStats(file: LogFile, filter: EventFilter = {}): EventStats {
  const byType = new Map<string, number>();
  const byVm = new Map<string, number>();
  const byExitReason = new Map<string, number>();
  const byPageFaultCause = new Map<string, number>();
  let events = 0;
  let first: EventStats['first'];
  let last: EventStats['last'];
  for (const event of queryEvents(file, filter)) {
    events++;
    if (first === undefined) first = { seq: event.seq, t: event.t };
    last = { seq: event.seq, t: event.t };
    byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
    const vm = event.src.startsWith('vm/') ? event.src.slice(3, (event.src.indexOf('/', 3) + 1 || event.src.length + 1) - 1) : '-';
    byVm.set(vm, (byVm.get(vm) ?? 0) + 1);
    if (event.type.startsWith('exit.')) {
      const reason = event.type.slice(5);
      byExitReason.set(reason, (byExitReason.get(reason) ?? 0) + 1);
      if (event.type === 'exit.page-fault') {
        const cause = event.data.cause ?? 'ept-violation';
        byPageFaultCause.set(cause, (byPageFaultCause.get(cause) ?? 0) + 1);
      }
    }
  }
  return { events, first, last, byType: sorted(byType), byVm: sorted(byVm), byExitReason: sorted(byExitReason), byPageFaultCause: sorted(byPageFaultCause) };
}

function sorted(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}
