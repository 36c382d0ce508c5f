/**
 * Folding a stretch of events into a state. The reducers (reducers.ts) are immer-style; they
 * run either inside ONE immer `produce` for the whole stretch (structural sharing with the
 * base: the right choice for a few events, as when a cursor steps), or on a private mutable
 * copy of the base that is frozen when done (the right choice for long stretches: immer's
 * proxies cost several times the reducers' own work per event; see docs/replay.md for figures).
 * Both give the same frozen state.
 */
import { freeze, produce, type Draft } from 'immer';
import type { SimEvent } from '../../core/events.js';
import { reduce } from './reducers.js';
import type { InspectState } from './state.js';

export type FoldEngine = 'immer' | 'mutable' | 'auto';

/** Below this many events `auto` uses immer; from it, a mutable copy. */
const AUTO_IMMER_LIMIT = 64;

export interface FoldOptions {
  readonly engine?: FoldEngine;
}

/** Applies `events` (in seq order) to `base`; returns a new frozen state, `base` untouched. */
export function foldEvents(base: InspectState, events: Iterable<SimEvent>, options: FoldOptions = {}): InspectState {
  const engine = options.engine ?? 'auto';
  if (engine === 'immer' || (engine === 'auto' && Array.isArray(events) && events.length < AUTO_IMMER_LIMIT)) {
    return produce(base, (draft) => {
      for (const event of events) reduce(draft, event);
    });
  }
  const draft = thaw(base);
  for (const event of events) reduce(draft, event);
  return freeze(draft as InspectState, true);
}

/** A private deep mutable copy of a state (plain JSON data). */
export function thaw(state: InspectState): Draft<InspectState> {
  return copy(state) as Draft<InspectState>;
}

function copy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index++) out[index] = copy(value[index] as unknown);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key]);
  return out as T;
}
