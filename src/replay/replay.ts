/**
 * Replay: re-execute a run from its log's header (scenario, seed) and compare every event the new
 * run publishes with the logged one, as it is produced, line text against line text. The first
 * difference stops the run and is reported with the events just before it.
 */
import { Simulation } from '../actors/simulation.js';
import type { SimEvent } from '../core/events.js';
import type { InputSpec, StopInput } from '../core/scenario/inputs.js';
import { inputsFromEvents } from '../actors/inputs.js';
import { EventSerializer } from '../core/log/writer.js';
import { resolveScenarioObject } from '../core/scenario/load.js';
import type { Scenario } from '../core/scenario/schema.js';
import { ENGINE_VERSION } from '../core/version.js';
import { BUNDLED_GUEST_NAMES } from '../guests/index.js';
import type { LogFile, RawLine } from './logFile.js';

const CONTEXT = 4;

export interface Divergence {
  readonly seq: number;
  /** Line number of the expected event in the log (or of the end of the log). */
  readonly line: number;
  /** The logged event (undefined when the log ended first). */
  readonly expected: string | undefined;
  /** The replayed event (undefined when the replay ended first). */
  readonly actual: string | undefined;
  /** The events just before it (identical in both). */
  readonly before: readonly string[];
}

export interface ReplayResult {
  readonly identical: boolean;
  readonly events: number;
  readonly timeNs: number;
  /** Set when the log was written by another engine version. */
  readonly engineNote: string | undefined;
  readonly divergence: Divergence | undefined;
  /** The log stopped before its closing line: events compared up to its last whole line. */
  readonly truncated: boolean;
  readonly warnings: readonly string[];
}

/** The scenario a log's header records, resolved again. */
export function scenarioOf(file: LogFile): Scenario {
  return resolveScenarioObject(file.header.scenario, { file: `${file.name} (header)`, guests: BUNDLED_GUEST_NAMES });
}

export function engineNote(file: LogFile): string | undefined {
  return file.header.engine === ENGINE_VERSION
    ? undefined
    : `this log was written by vmmsim ${file.header.engine}; this is vmmsim ${ENGINE_VERSION}: events may differ because the engine changed`;
}

/** The log's input records (what came from outside the run), read without parsing other lines. */
export function inputRecords(file: LogFile): (InputSpec | StopInput)[] {
  const records: SimEvent[] = [];
  for (const line of file.lines()) {
    if (line.base.includes('"type":"input.')) records.push(JSON.parse(line.base) as SimEvent);
  }
  file.warnings.length = 0;
  return inputsFromEvents(records);
}

export interface ReplayOptions {
  readonly readProgram?: (path: string) => string;
  /** Called with each matching event count now and then (progress). */
  readonly onProgress?: (events: number) => void;
}

export function replay(file: LogFile, options: ReplayOptions = {}): ReplayResult {
  const scenario = scenarioOf(file);
  let simulation: Simulation | undefined = undefined;
  const stop = () => simulation?.kernel.requestStop();
  const serializer = new EventSerializer();
  const logged = eventLines(file);
  const recent: string[] = [];
  let divergence: Divergence | undefined;
  let matched = 0;
  let lastLine = 1;
  let logEnded = false;
  const sink = (event: SimEvent): void => {
    if (divergence !== undefined || logEnded) return;
    const actual = serializer.serialize(event);
    const next = logged.next();
    if (next.done === true) {
      logEnded = true;
      if (file.ended?.truncated === true || !sawClosing) {
        // The log was cut short: everything it holds matched; stop here.
        stop();
        return;
      }
      divergence = { seq: event.seq, line: lastLine + 1, expected: undefined, actual, before: [...recent] };
      stop();
      return;
    }
    lastLine = next.value.line;
    if (next.value.base !== actual) {
      divergence = { seq: event.seq, line: next.value.line, expected: next.value.base, actual, before: [...recent] };
      stop();
      return;
    }
    matched++;
    recent.push(actual);
    if (recent.length > CONTEXT) recent.shift();
    if (options.onProgress !== undefined && (matched & 0xffff) === 0) options.onProgress(matched);
  };

  let sawClosing = false;
  function* eventLines(log: LogFile): Generator<RawLine> {
    for (const line of log.lines()) {
      if (line.base.startsWith('{"seq":')) yield line;
      else if (line.base.startsWith('{"end":')) sawClosing = true;
    }
  }

  simulation = new Simulation({ scenario, seed: file.header.seed, readProgram: options.readProgram, sink, inputs: inputRecords(file) });
  const forked = file.header.fork;
  if (divergence === undefined && forked !== undefined) {
    // A forked run: the same changes at the same point.
    if (simulation.runUntilEvent(forked.at) && divergence === undefined) {
      simulation.reconfigure(resolveScenarioObject(forked.scenario, { file: `${file.name} (header fork)`, guests: BUNDLED_GUEST_NAMES }));
    }
  }
  if (divergence === undefined && !simulation.finished) simulation.run();
  if (divergence === undefined && !logEnded) {
    // The replay ended: the log must have nothing left.
    const next = logged.next();
    if (next.done !== true) {
      divergence = { seq: matched, line: next.value.line, expected: next.value.base, actual: undefined, before: [...recent] };
    }
  }
  // Drain the reader so truncation warnings are known.
  if (divergence === undefined) for (const _line of logged) void _line;
  return {
    identical: divergence === undefined,
    events: matched,
    timeNs: (simulation as Simulation).kernel.now,
    engineNote: engineNote(file),
    divergence,
    truncated: file.ended?.truncated === true || !sawClosing,
    warnings: file.warnings,
  };
}
