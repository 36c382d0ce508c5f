/**
 * Reads and checks an event log. Every line is parsed and checked as it is read: the header
 * first, events numbered without gaps, known event types, each checkpoint's hash against the
 * running hash of the bytes before it, and the closing line's count and hash. A log that stops
 * before its closing line (a writer that crashed) is still read up to its last whole line, with a
 * warning saying where it ends.
 */
import { RunningHash } from '../hash.js';
import { isEventType, type SimEvent } from '../events.js';
import { ENGINE_VERSION } from '../version.js';
import { LOG_FORMAT, LOG_VERSION, type LogCheckpoint, type LogEnd, type LogHeader } from './format.js';

export class LogError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'LogError';
  }
}

export interface ParsedLog {
  readonly header: LogHeader;
  readonly events: SimEvent[];
  readonly checkpoints: LogCheckpoint[];
  readonly end: LogEnd | undefined;
  readonly warnings: string[];
}

export function readLog(text: string, file = '<log>'): ParsedLog {
  const hash = new RunningHash();
  const events: SimEvent[] = [];
  const checkpoints: LogCheckpoint[] = [];
  const warnings: string[] = [];
  let header: LogHeader | undefined;
  let end: LogEnd | undefined;
  let position = 0;
  let lineNumber = 0;

  while (position < text.length) {
    const newline = text.indexOf('\n', position);
    lineNumber++;
    if (newline < 0) {
      warnings.push(`${file}:${lineNumber}: the log ends inside a line (truncated); read up to line ${lineNumber - 1}`);
      break;
    }
    const line = text.slice(position, newline);
    position = newline + 1;
    if (end !== undefined) throw new LogError(file, lineNumber, 'content after the closing line');
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new LogError(file, lineNumber, 'not a JSON line');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new LogError(file, lineNumber, 'expected a JSON object');
    }
    const record = value as Record<string, unknown>;
    if (header === undefined) {
      header = checkHeader(record, file, lineNumber);
    } else if ('seq' in record) {
      const event = checkEvent(record, file, lineNumber);
      if (event.seq !== events.length) {
        throw new LogError(file, lineNumber, `expected event seq ${events.length}, found ${event.seq}`);
      }
      events.push(event);
    } else if ('checkpoint' in record) {
      const checkpoint = record.checkpoint as LogCheckpoint;
      if (checkpoint.hash !== hash.digest()) {
        throw new LogError(file, lineNumber, 'hash mismatch: a line before this checkpoint was changed');
      }
      checkpoints.push(checkpoint);
    } else if ('end' in record) {
      const closing = record.end as LogEnd;
      if (closing.hash !== hash.digest()) {
        throw new LogError(file, lineNumber, 'hash mismatch: a line before the closing line was changed');
      }
      if (closing.events !== events.length) {
        throw new LogError(file, lineNumber, `closing line counts ${closing.events} events, the log has ${events.length}`);
      }
      end = closing;
    } else {
      throw new LogError(file, lineNumber, 'unknown line: expected an event, a checkpoint or the closing line');
    }
    hash.update(line + '\n');
  }
  if (header === undefined) throw new LogError(file, 1, 'empty log: expected a header line');
  if (end === undefined && warnings.length === 0) {
    warnings.push(`${file}:${lineNumber}: no closing line (the writer stopped early); read ${events.length} events`);
  }
  return { header, events, checkpoints, end, warnings };
}

function checkHeader(record: Record<string, unknown>, file: string, line: number): LogHeader {
  if (record.format !== LOG_FORMAT) throw new LogError(file, line, `not a vmmsim log: expected "format":"${LOG_FORMAT}"`);
  if (typeof record.version !== 'number' || record.version > LOG_VERSION) {
    throw new LogError(file, line, `log format version ${String(record.version)} is newer than this engine reads (${LOG_VERSION}); engine ${ENGINE_VERSION}`);
  }
  if (typeof record.seed !== 'number') throw new LogError(file, line, 'header has no seed');
  return record as unknown as LogHeader;
}

function checkEvent(record: Record<string, unknown>, file: string, line: number): SimEvent {
  if (!Number.isSafeInteger(record.seq)) throw new LogError(file, line, 'event seq must be an integer');
  if (!Number.isSafeInteger(record.t) || (record.t as number) < 0) throw new LogError(file, line, 'event t must be a non-negative integer');
  if (typeof record.src !== 'string') throw new LogError(file, line, 'event src must be a string');
  if (typeof record.type !== 'string' || !isEventType(record.type)) {
    throw new LogError(file, line, `unknown event type ${JSON.stringify(record.type)}`);
  }
  if (typeof record.data !== 'object' || record.data === null) throw new LogError(file, line, 'event data must be an object');
  return record as unknown as SimEvent;
}
