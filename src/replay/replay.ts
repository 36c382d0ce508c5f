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
import { RunningHash } from '../core/hash.js';
import { CHECK_SUFFIX_LENGTH } from '../core/log/format.js';
import { LogError } from '../core/log/reader.js';
import { isMutation, MUTATIONS, type Mutation } from '../actors/mutations.js';

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

/** The mutant a log was written by (docs/testing.md), if any: replay rebuilds the same one. */
export function mutationOf(file: LogFile): Mutation | undefined {
  const mutation = file.header.mutation;
  if (mutation === undefined) return undefined;
  if (!isMutation(mutation)) throw new LogError(file.name, 1, `unknown mutation '${mutation}' in the header (expected one of: ${MUTATIONS.join(', ')})`);
  return mutation;
}

export function engineNote(file: LogFile): string | undefined {
  return file.header.engine === ENGINE_VERSION
    ? undefined
    : `this log was written by vmmsim ${file.header.engine}; this is vmmsim ${ENGINE_VERSION}: events may differ because the engine changed`;
}

/** The log's input records (what came from outside the run), read without parsing other lines. */
export function inputRecords(file: LogFile): (InputSpec | StopInput)[] {
  const records: SimEvent[] = [];
  const warnings = file.warnings.length;
  for (const line of file.lines()) {
    if (line.base.includes('"type":"input.')) records.push(JSON.parse(line.base) as SimEvent);
  }
  file.warnings.length = warnings;
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
  const chain = new ReplayChain(file.name);
  const stream = new LineStream(file);
  let sawClosing = false;
  /**
   * The log's next event line. Lines are not checked one by one here: each event line is compared,
   * checksum included, with the line the writer would write for the replayed event, which checks
   * it in passing. Other lines (header, checkpoints, the closing line) are checked on the way.
   */
  const nextEventLine = (): RawLine | undefined => {
    for (;;) {
      const text = stream.next();
      if (text === undefined) return undefined;
      const line = { line: stream.line, offset: 0, text, base: '' };
      if (text.startsWith('{"seq":')) return line;
      chain.checkOther(line);
      if (text.startsWith('{"end":')) sawClosing = true;
    }
  };
  // One line of look-ahead: an input record is scheduled as soon as the event before it has
  // matched, which is always before the run reaches the input's time (inputs run first at their
  // instant, so nothing at that instant can come before them).
  let ahead: RawLine | undefined | null = null;
  const logged = {
    next(): IteratorResult<RawLine> {
      const result = ahead === null ? nextEventLine() : ahead;
      ahead = null;
      return result === undefined ? { done: true, value: undefined } : { done: false, value: result };
    },
    peek(): IteratorResult<RawLine> {
      if (ahead === null) ahead = nextEventLine();
      return ahead === undefined ? { done: true, value: undefined } : { done: false, value: ahead };
    },
    [Symbol.iterator]() {
      return this;
    },
  };
  const scheduleUpcomingInputs = () => {
    if (simulation === undefined) return;
    const upcoming = logged.peek();
    if (upcoming.done === true || !upcoming.value.text.includes(',"type":"input.')) return;
    // Schedule it; it stays in the look-ahead until the replay publishes it and they are compared.
    const record = JSON.parse(baseOf(upcoming.value.text)) as SimEvent;
    const [input] = inputsFromEvents([record]);
    if (input === undefined || scheduledInputs.has(record.seq)) return;
    scheduledInputs.add(record.seq);
    simulation.inputs.addRecorded(input);
  };
  const scheduledInputs = new Set<number>();
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
      if (stream.truncated || !sawClosing) {
        // The log was cut short: everything it holds matched; stop here.
        stop();
        return;
      }
      divergence = { seq: event.seq, line: lastLine + 1, expected: undefined, actual, before: [...recent] };
      stop();
      return;
    }
    lastLine = next.value.line;
    if (!chain.matches(next.value, actual)) {
      divergence = { seq: event.seq, line: next.value.line, expected: baseOf(next.value.text), actual, before: [...recent] };
      stop();
      return;
    }
    matched++;
    recent.push(actual);
    if (recent.length > CONTEXT) recent.shift();
    scheduleUpcomingInputs();
    if (options.onProgress !== undefined && (matched & 0xffff) === 0) options.onProgress(matched);
  };

  simulation = new Simulation({ scenario, seed: file.header.seed, readProgram: options.readProgram, sink, inputs: [], mutation: mutationOf(file) });
  scheduleUpcomingInputs();
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
      divergence = { seq: matched, line: next.value.line, expected: baseOf(next.value.text), actual: undefined, before: [...recent] };
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
    truncated: stream.truncated || !sawClosing,
    warnings: [...file.warnings, ...stream.warnings(sawClosing)],
  };
}

/** A line without its checksum key. */
function baseOf(text: string): string {
  return text.length > CHECK_SUFFIX_LENGTH + 1 ? text.slice(0, text.length - 1 - CHECK_SUFFIX_LENGTH) + '}' : text;
}

/**
 * The running hash of the log as replay reads it. An event line matches when it is exactly what
 * the writer would have written for the replayed event (its checksum included); a line that does
 * not match is checked on its own, to tell a changed line (a LogError: exit 2) from a run that
 * differs (a divergence: exit 1).
 */
class ReplayChain {
  private readonly hash = new RunningHash();

  constructor(private readonly file: string) {}

  matches(line: RawLine, actual: string): boolean {
    const before = this.hash.state();
    this.hash.update(actual);
    this.hash.update('\n');
    const written = `${actual.slice(0, -1)},"h":"${this.hash.lineCheck()}"}`;
    if (written === line.text) return true;
    // Not what the writer would write: is the logged line itself intact?
    const own = RunningHash.fromState(before);
    const base = baseOf(line.text);
    own.update(base);
    own.update('\n');
    if (!line.text.endsWith(`,"h":"${own.lineCheck()}"}`)) throw new LogError(this.file, line.line, 'checksum mismatch: this line was changed');
    return false;
  }

  /** The header, a checkpoint or the closing line: checked and added to the chain. */
  checkOther(line: RawLine): void {
    const base = baseOf(line.text);
    const digest = this.hash.digest();
    this.hash.update(base);
    this.hash.update('\n');
    if (!line.text.endsWith(`,"h":"${this.hash.lineCheck()}"}`) || !line.text.startsWith('{')) {
      if (!line.text.startsWith('{')) throw new LogError(this.file, line.line, 'not a JSON line');
      throw new LogError(this.file, line.line, 'checksum mismatch: this line was changed');
    }
    if (line.text.startsWith('{"checkpoint":') || line.text.startsWith('{"end":')) {
      const record = JSON.parse(base) as { checkpoint?: { hash: string }; end?: { hash: string } };
      const hash = record.checkpoint?.hash ?? record.end?.hash;
      if (hash !== digest) throw new LogError(this.file, line.line, 'hash does not match the lines before it');
    }
  }
}

/** The lines of a log, read in large chunks, without generators (replay's hot path). */
class LineStream {
  private text = '';
  private cursor = 0;
  private offset = 0;
  private readonly decoder = new TextDecoder();
  /** Number of the last line returned. */
  line = 0;
  /** The log ends inside a line. */
  truncated = false;

  constructor(private readonly file: LogFile) {}

  next(): string | undefined {
    const source = this.file.source;
    for (;;) {
      const newline = this.text.indexOf('\n', this.cursor);
      if (newline >= 0) {
        const line = this.text.slice(this.cursor, newline);
        this.cursor = newline + 1;
        this.line++;
        return line;
      }
      if (this.offset >= source.size) {
        this.truncated = this.cursor < this.text.length;
        return undefined;
      }
      const bytes = source.read(this.offset, 1 << 20);
      if (bytes.length === 0) {
        this.offset = source.size;
        continue;
      }
      this.offset += bytes.length;
      this.text = this.text.slice(this.cursor) + this.decoder.decode(bytes, { stream: this.offset < source.size });
      this.cursor = 0;
    }
  }

  warnings(sawClosing: boolean): string[] {
    const name = this.file.name;
    if (this.truncated) return [`${name}:${this.line + 1}: the log ends inside line ${this.line + 1} (truncated); read up to line ${this.line}`];
    if (!sawClosing) return [`${name}:${this.line}: no closing line (the writer stopped early)`];
    return [];
  }
}
