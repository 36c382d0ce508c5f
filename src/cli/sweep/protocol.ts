/** What the sweep's main thread and its workers share: the task shape and the counter slots. */
import type { GridValue } from './spec.js';

export interface WorkerTask {
  readonly index: number;
  readonly key: string;
  readonly seed: number;
  readonly replication: number;
  readonly point: Readonly<Record<string, GridValue>>;
  /** Index into the distinct scenarios passed alongside (one per grid point). */
  readonly scenario: number;
  /** The run's policy module, if its grid point names one: loaded from `file`, checked by hash. */
  readonly policyModule?: { readonly file: string; readonly path: string; readonly sha256: string };
}

/** Int32 slots of the shared counters. */
export const SLOT_NEXT = 0;
export const SLOT_DONE = 1;
export const SLOT_FAILED = 2;
export const SLOT_WORKERS_DONE = 3;
export const SLOT_STARTED = 4;
export const SLOTS = 5;
