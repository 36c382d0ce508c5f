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
import { chainFor, type LineChain } from '../core/log/chain.js';
import { CHECK_SUFFIX_LENGTH } from '../core/log/format.js';
import { LineChecker, LogError } from '../core/log/reader.js';
import { LogWriter } from '../core/log/writer.js';
import { isMutation, MUTATIONS, partsOf, type Mutation } from '../testing/mutants/index.js';
import { policyModuleOf } from './policyModule.js';

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

/**
 * The log's input records (what came from outside the run). Found with a byte search for their
 * type over the raw file (native speed), so only their own lines are decoded and parsed.
 */
export function inputRecords(file: LogFile): (InputSpec | StopInput)[] {
  const records: SimEvent[] = [];
  const source = file.source;
  const marker = Buffer.from(',"type":"input.');
  const chunk = 1 << 22;
  for (let offset = 0; offset < source.size; ) {
    const bytes = source.read(offset, chunk + marker.length);
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    let at = view.indexOf(marker);
    while (at >= 0 && at < chunk) {
      const start = view.lastIndexOf(10, at) + 1;
      const lineStart = offset + start;
      const line = readLineAt(source, lineStart);
      if (line !== undefined && line.startsWith('{"seq":')) {
        try {
          records.push(JSON.parse(baseOf(line)) as SimEvent);
        } catch {
          // A damaged line: the comparison reports it where it is.
        }
      }
      at = view.indexOf(marker, at + 1);
    }
    if (bytes.length < chunk + marker.length) break;
    offset += chunk;
  }
  return inputsFromEvents(records);
}

/** The text of the line starting at a byte offset (without its newline), or undefined at the end. */
function readLineAt(source: LogFile['source'], offset: number): string | undefined {
  const parts: Uint8Array[] = [];
  for (let position = offset; ; ) {
    const bytes = source.read(position, 1 << 16);
    if (bytes.length === 0) return parts.length === 0 ? undefined : Buffer.concat(parts).toString('utf8');
    const newline = bytes.indexOf(10);
    if (newline >= 0) {
      parts.push(bytes.subarray(0, newline));
      return Buffer.concat(parts).toString('utf8');
    }
    parts.push(bytes.slice());
    position += bytes.length;
  }
}

export interface ReplayOptions {
  readonly readProgram?: (path: string) => string;
  /** Reads an `image:` file the scenario names (a VM restored from an image), relative to the log's folder. */
  readonly readImage?: (path: string) => Uint8Array;
  /**
   * A copy of the policy module the run used (when its log's header names one and the module is
   * no longer at the recorded path); checked against the header's sha256.
   */
  readonly policy?: string;
  /** Called now and then with how far the comparison has got (events or bytes compared). */
  readonly onProgress?: (events: number) => void;
}

/** Replay by reading the log line by line (logs from another engine version, truncated logs). */
function replayByLines(file: LogFile, options: ReplayOptions = {}): ReplayResult {
  const scenario = scenarioOf(file);
  const module = policyModuleOf(file.header, file.name, options.policy);
  let simulation: Simulation | undefined = undefined;
  const stop = () => simulation?.kernel.requestStop();
  const serializer = new EventSerializer();
  const chain = new ReplayChain(file.name, file.header.version);
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

  simulation = new Simulation({
    scenario,
    seed: file.header.seed,
    readProgram: options.readProgram,
    readImage: options.readImage,
    sink,
    inputs: [],
    parts: partsOf(mutationOf(file)),
    policy: module?.factory,
    policyModule: module?.record,
  });
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
  // A divergence stops reading where it is: whether the log goes on to a closing line is read
  // from its tail (the stream never got there, and must not say the writer stopped early).
  const closed = divergence === undefined ? sawClosing : endsWithClosingLine(file);
  const truncated = divergence === undefined ? stream.truncated || !sawClosing : !closed;
  return {
    identical: divergence === undefined,
    events: matched,
    timeNs: (simulation as Simulation).kernel.now,
    engineNote: engineNote(file),
    divergence,
    truncated,
    warnings: [
      ...file.warnings,
      ...(divergence === undefined ? stream.warnings(sawClosing) : closed || file.warnings.length > 0 ? [] : [`${file.name}: the log has no closing line (the writer stopped early, or it was cut)`]),
    ],
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
  /** The log's own checksum (its format version's: a log written before format 2 keeps FNV-1a). */
  private readonly chain: LineChain;

  constructor(
    private readonly file: string,
    version: number,
  ) {
    this.chain = chainFor(version);
  }

  matches(line: RawLine, actual: string): boolean {
    const before = this.chain.copy();
    const written = `${actual.slice(0, -1)},"h":"${this.chain.add(actual)}"}`;
    if (written === line.text) return true;
    // Not what the writer would write: is the logged line itself intact?
    if (!line.text.endsWith(`,"h":"${before.add(baseOf(line.text))}"}`)) throw new LogError(this.file, line.line, 'checksum mismatch: this line was changed');
    return false;
  }

  /** The header, a checkpoint or the closing line: checked and added to the chain. */
  checkOther(line: RawLine): void {
    const base = baseOf(line.text);
    const digest = this.chain.digest();
    if (!line.text.endsWith(`,"h":"${this.chain.add(base)}"}`) || !line.text.startsWith('{')) {
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

/**
 * Replays a log: re-executes the run from its header and input records and compares it with the
 * log as it is produced. When the new run's header comes out byte for byte the same (the same
 * engine) and the log is whole, the new run writes its own log and every chunk is compared byte
 * for byte with the file (events, checkpoints with every actor's state, the closing line): as
 * fast as writing the log. Otherwise (another engine version, a log cut short) it compares event
 * lines one by one.
 */
export function replay(file: LogFile, options: ReplayOptions = {}): ReplayResult {
  if (!endsWithClosingLine(file)) return replayByLines(file, options);
  const scenario = scenarioOf(file);
  const module = policyModuleOf(file.header, file.name, options.policy);
  const source = file.source;
  let compared = 0;
  let mismatchAt = -1;
  const stopRun = { requestStop: () => {} };
  // The bytes written around the point of comparison, to show the replayed line at a mismatch.
  let previous: Buffer = Buffer.alloc(0);
  let previousStart = 0;
  let tail: Buffer[] = [];
  const compare = (chunk: string): void => {
    const bytes = Buffer.from(chunk, 'utf8');
    if (mismatchAt >= 0) {
      tail.push(bytes);
      return;
    }
    const logged = source.read(compared, bytes.length);
    const common = Math.min(logged.length, bytes.length);
    const view = Buffer.from(logged.buffer, logged.byteOffset, logged.length);
    const differs = view.compare(bytes, 0, common, 0, common) !== 0 || logged.length < bytes.length;
    if (differs) {
      let index = 0;
      while (index < common && view[index] === bytes[index]) index++;
      mismatchAt = compared + index;
      tail = [bytes];
      stopRun.requestStop();
    }
    if (differs) return;
    previous = bytes;
    previousStart = compared;
    compared += bytes.length;
    options.onProgress?.(compared);
  };
  const writer = new LogWriter(compare);
  const simulation = new Simulation({
    scenario,
    seed: file.header.seed,
    readProgram: options.readProgram,
    readImage: options.readImage,
    log: writer,
    inputs: inputRecords(file),
    parts: partsOf(mutationOf(file)),
    fork: file.header.fork,
    policy: module?.factory,
    policyModule: module?.record,
  });
  stopRun.requestStop = () => simulation.kernel.requestStop();
  writer.flush();
  if (mismatchAt >= 0 && mismatchAt < firstLineLength(file)) {
    // The header itself differs (another engine version): compare line by line instead.
    return replayByLines(file, options);
  }
  const forked = file.header.fork;
  if (mismatchAt < 0 && forked !== undefined && simulation.runUntilEvent(forked.at) && mismatchAt < 0) {
    simulation.reconfigure(resolveScenarioObject(forked.scenario, { file: `${file.name} (header fork)`, guests: BUNDLED_GUEST_NAMES }));
  }
  if (mismatchAt < 0 && !simulation.finished) simulation.run();
  else simulation.finishRun();
  writer.flush();
  if (mismatchAt < 0 && compared < source.size) mismatchAt = compared;
  const base = { timeNs: simulation.kernel.now, engineNote: engineNote(file), truncated: false, warnings: [...file.warnings] };
  if (mismatchAt < 0) return { ...base, identical: true, events: simulation.bus.count, divergence: undefined };
  const written = Buffer.concat([previous, ...tail]);
  return { ...base, identical: false, events: 0, divergence: locate(file, mismatchAt, written, previousStart) };
}

function endsWithClosingLine(file: LogFile): boolean {
  const size = file.source.size;
  const tail = Buffer.from(file.source.read(Math.max(0, size - 512), 512)).toString('utf8');
  if (!tail.endsWith('\n')) return false;
  const last = tail.slice(tail.lastIndexOf('\n', tail.length - 2) + 1);
  return last.startsWith('{"end":');
}

function firstLineLength(file: LogFile): number {
  const line = readLineAt(file.source, 0);
  return line === undefined ? 0 : Buffer.byteLength(line) + 1;
}

/** Names the line where the log and the replay part ways, and tells a changed line from a different run. */
function locate(file: LogFile, offset: number, written: Buffer, writtenStart: number): Divergence {
  const source = file.source;
  // The line of the log that contains the first differing byte, and its number.
  let lineNumber = 1;
  let lineStart = 0;
  for (let position = 0; position < offset; ) {
    const bytes = source.read(position, Math.min(1 << 20, offset - position));
    let at = bytes.indexOf(10);
    while (at >= 0) {
      lineNumber++;
      lineStart = position + at + 1;
      at = bytes.indexOf(10, at + 1);
    }
    position += bytes.length;
  }
  const expectedText = readLineAt(source, lineStart);
  const relative = lineStart - writtenStart;
  let actualText: string | undefined;
  if (relative >= 0 && relative < written.length) {
    const end = written.indexOf(10, relative);
    actualText = written.subarray(relative, end < 0 ? written.length : end).toString('utf8');
  }
  // Is the logged line intact? Check every line up to it (a failure path, so a full pass is fine).
  const checker = new LineChecker(file.name);
  for (const line of file.lines(undefined, checker, false)) {
    const number = line.line;
    if (number === lineNumber) {
      if (line.text !== expectedText) break;
      checker.check(line.text, number);
      break;
    }
    checker.parse(line.text, number);
  }
  // The event lines just before it, from the log (within the 64 KiB before the line).
  const windowStart = Math.max(0, lineStart - (1 << 16));
  const window = Buffer.from(source.read(windowStart, lineStart - windowStart)).toString('utf8').split('\n');
  const before = window
    .slice(windowStart === 0 ? 0 : 1)
    .filter((line) => line.startsWith('{"seq":'))
    .slice(-CONTEXT)
    .map(baseOf);
  const expected = expectedText === undefined || expectedText === '' ? undefined : baseOf(expectedText);
  const actual = actualText === undefined || actualText === '' ? undefined : baseOf(actualText);
  const seqOf = (text: string | undefined) => {
    if (text === undefined) return undefined;
    const match = /^\{"(?:seq|checkpoint":\{"seq)":(\d+)/.exec(text);
    return match === null ? undefined : Number(match[1]);
  };
  return { seq: seqOf(expected) ?? seqOf(actual) ?? 0, line: lineNumber, expected, actual, before };
}
