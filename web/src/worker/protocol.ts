/** Messages between the page and the simulation worker. */
import type { RunMetrics } from '../../../src/actors/metrics/collector.js';
import type { RunSummary } from '../../../src/actors/summary.js';
import type { ArchRow } from '../../../src/cli/archRuns.js';

export interface StartRequest {
  readonly kind: 'start';
  /** Scenario YAML text and its name (for error messages). */
  readonly scenarioText: string;
  readonly file: string;
  /** Overrides the scenario's seed and scheduling policy when set. */
  readonly seed?: number;
  readonly policy?: string;
}

export interface StopRequest {
  readonly kind: 'stop';
}

/** `vmmsim compare SCENARIO --arch ... --virt ...`, run in the worker. */
export interface CompareRequest {
  readonly kind: 'compare';
  readonly scenarioText: string;
  readonly file: string;
  readonly archs: readonly ('type1' | 'type2')[];
  readonly virts: readonly ('full' | 'para' | 'hw')[];
}

export type WorkerRequest = StartRequest | StopRequest | CompareRequest;

export type WorkerReply =
  /** A piece of the event log (JSON Lines, possibly ending inside a line). */
  | { readonly kind: 'log'; readonly text: string }
  | { readonly kind: 'done'; readonly summary: RunSummary; readonly metrics: RunMetrics | null }
  | { readonly kind: 'compared'; readonly rows: readonly ArchRow[] }
  | { readonly kind: 'error'; readonly message: string };
