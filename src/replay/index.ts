/**
 * The replay library: open a log, seek in it, step a cursor forward and back, get the state at
 * any point (the fold), query and count events, re-execute and compare (replay), and restore a
 * live simulation paused at any point. docs/replay.md explains how and why, with an example.
 */
import { dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { Simulation, type SimulationOptions } from '../actors/simulation.js';
import type { SimEvent } from '../core/events.js';
import type { LogHeader } from '../core/log/format.js';
import { LogCursor } from './cursor.js';
import type { InspectState } from './fold/state.js';
import { LogFile } from './logFile.js';
import { eventStats, queryEvents, type EventFilter, type EventStats } from './query.js';
import { inputRecords, mutationOf, replay, scenarioOf, type ReplayOptions, type ReplayResult } from './replay.js';
import { partsOf } from '../testing/mutants/index.js';
import { PointError, lastSeq, stateAtSeq, stateAtTime } from './seek.js';
import { fileSource, memorySource } from './source.js';
import { policyModuleOf } from './policyModule.js';
import { resolveScenarioObject } from '../core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../guests/index.js';

export { LogFile, type ReadStart, type LineRecord, type RawLine } from './logFile.js';
export { fileSource, memorySource, type ByteSource } from './source.js';
export { replay, scenarioOf, engineNote, type ReplayResult, type ReplayOptions, type Divergence } from './replay.js';
export { LogCursor } from './cursor.js';
export { loadPolicyModule, policyModuleOf, policyModuleDigest, PolicyModuleError, type LoadedPolicyModule } from './policyModule.js';
export { queryEvents, eventStats, typeMatcher, FilterError, type EventFilter, type EventStats, type Point } from './query.js';
export { stateAtSeq, stateAtTime, lastSeq, lastSeqAtOrBefore, PointError, type StateAt } from './seek.js';
export * from './fold/index.js';

/** A log opened for reading: the library's entry point. */
export class ReplayLog {
  constructor(
    readonly file: LogFile,
    private readonly programBase: string | undefined,
  ) {}

  get header(): LogHeader {
    return this.file.header;
  }

  /** Truncation and similar warnings met so far (`file:line: what`). */
  get warnings(): readonly string[] {
    return this.file.warnings;
  }

  /** The state after event `seq` (frozen; see InspectState). */
  stateAt(seq: number): InspectState {
    return stateAtSeq(this.file, seq).state;
  }

  /** The state at virtual time `time` (ns): after the last event at or before it. */
  stateAtTime(time: number): InspectState {
    return stateAtTime(this.file, time).state;
  }

  /** A cursor at the first event; `seek`, `next`, `prev` move it. */
  cursor(): LogCursor {
    return new LogCursor(this.file);
  }

  /** The events that pass the filter. */
  events(filter: EventFilter = {}): Generator<SimEvent> {
    return queryEvents(this.file, filter);
  }

  /** Counts by type, VM and exit reason of the events that pass the filter. */
  stats(filter: EventFilter = {}): EventStats {
    return eventStats(this.file, filter);
  }

  /** The last event's seq. */
  lastSeq(): number {
    return lastSeq(this.file);
  }

  /** Re-executes the run from the header and compares event by event. */
  replay(options: ReplayOptions = {}): ReplayResult {
    return replay(this.file, { readProgram: this.readProgram(), readImage: this.readImage(), ...options });
  }

  /** A live simulation paused after the kernel step that published event `seq` (see restore). */
  restore(seq: number, options: RestoreOptions = {}): Simulation {
    return restore(this, seq, options);
  }

  close(): void {
    this.file.close();
  }

  /** Reads `image:` files named in the header's scenario, relative to the log's folder. */
  readImage(): ((path: string) => Uint8Array) | undefined {
    const base = this.programBase;
    return base === undefined ? undefined : (path) => readFileSync(resolve(base, path));
  }

  /** Reads `program:` files named in the header's scenario, relative to the log's folder. */
  readProgram(): ((path: string) => string) | undefined {
    const base = this.programBase;
    return base === undefined ? undefined : (path) => readFileSync(resolve(base, path), 'utf8');
  }
}

/** Opens a log: a path, or the log's bytes (or text) with a name for messages. */
export function openLog(source: string | Uint8Array, name?: string): ReplayLog {
  if (typeof source === 'string' && name === undefined) return new ReplayLog(new LogFile(fileSource(source)), dirname(resolve(source)));
  return new ReplayLog(new LogFile(memorySource(source, name ?? '<log>')), undefined);
}

export type RestoreOptions = Partial<Pick<SimulationOptions, 'readProgram' | 'readImage' | 'log' | 'sink' | 'maxBatchNs'>> & {
  /**
   * A copy of the policy module the run used, when the log's header names one that is no longer
   * at the recorded path (checked against its sha256; PolicyModuleError when it differs).
   */
  readonly policy?: string;
};

/**
 * A live Simulation paused at event `seq`: built from the log's header (scenario, seed) and input
 * records and re-executed deterministically until the kernel step that published `seq` has
 * completed (so `bus.count - 1 >= seq`: events that step published after `seq` happened too).
 * Continue it with `run()`, look at its actors, or end it with `finishRun()`.
 */
export function restore(log: ReplayLog | LogFile, seq: number, options: RestoreOptions = {}): Simulation {
  const file = log instanceof ReplayLog ? log.file : log;
  if (!Number.isSafeInteger(seq) || seq < 0) throw new PointError(`seq must be a non-negative integer, got ${seq}`);
  const readProgram = options.readProgram ?? (log instanceof ReplayLog ? log.readProgram() : undefined);
  const readImage = options.readImage ?? (log instanceof ReplayLog ? log.readImage() : undefined);
  const { policy: copy, ...simulationOptions } = options;
  const module = policyModuleOf(file.header, file.name, copy);
  const simulation = new Simulation({
    scenario: scenarioOf(file),
    seed: file.header.seed,
    inputs: inputRecords(file),
    parts: partsOf(mutationOf(file)),
    policy: module?.factory,
    policyModule: module?.record,
    ...simulationOptions,
    readProgram,
    readImage,
  });
  if (simulation.bus.count > seq) return simulation;
  const forked = file.header.fork;
  if (forked !== undefined && seq > forked.at) {
    // A forked run: the same changes at the same point, as replay makes them.
    if (simulation.runUntilEvent(forked.at)) {
      simulation.reconfigure(resolveScenarioObject(forked.scenario, { file: `${file.name} (header fork)`, guests: BUNDLED_GUEST_NAMES }));
    }
    if (simulation.bus.count > seq) return simulation;
  }
  if (!simulation.runUntilEvent(seq)) {
    simulation.finishRun();
    if (simulation.bus.count <= seq) throw new PointError(`seq ${seq} is past the end of the run (its last event is seq ${simulation.bus.count - 1})`);
  }
  return simulation;
}
export { vcpuRegisters, registersOf, type VcpuRegisters, type RegistersAt } from './registers.js';
