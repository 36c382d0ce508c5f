/**
 * A log opened for reading: its header, sequential reading of its records with every line
 * checked, and seeking by seq or time through binary search over byte offsets to the nearest
 * checkpoint before a point, so a jump costs a few small reads and a fold of at most one
 * checkpoint interval, whatever the log's length.
 */
import { CHECK_SUFFIX_LENGTH, type LogCheckpoint, type LogHeader } from '../core/log/format.js';
import { chainFor } from '../core/log/chain.js';
import { checkCheckpoint, LineChecker, LogError, withLineOffset, type LogRecord } from '../core/log/reader.js';
import type { SimEvent } from '../core/events.js';
import type { ByteSource } from './source.js';

const CHUNK = 1 << 16;
/** Sequential reading takes bigger bites. */
const READ_CHUNK = 1 << 20;

export interface RawLine {
  readonly line: number;
  readonly offset: number;
  /** The line as written. */
  readonly text: string;
  /** The line without its checksum key (when checked without parsing). */
  readonly base: string;
}

export interface LineRecord {
  /** 1-based line number in the file. */
  readonly line: number;
  /** Byte offset of the line's start. */
  readonly offset: number;
  readonly record: LogRecord;
}

/** Where reading can start: the top of the log or a checkpoint. */
export interface ReadStart {
  readonly offset: number;
  readonly line: number;
  readonly hash: string;
  readonly seq: number;
  readonly checkpoint: LogCheckpoint | undefined;
}

export class LogFile {
  readonly header: LogHeader;
  /** Warnings found while reading (truncation). */
  readonly warnings: string[] = [];
  private readonly headerEnd: number;

  constructor(readonly source: ByteSource) {
    const start = source.read(0, 3);
    if (start.length === 3 && start[0] === 0xef && start[1] === 0xbb && start[2] === 0xbf) {
      throw new LogError(source.name, 1, 'the log starts with a byte order mark (U+FEFF): vmmsim never writes one; the file was changed');
    }
    const first = this.lineAt(0);
    if (first === undefined) throw new LogError(source.name, 1, 'empty log: expected a header line');
    const record = new LineChecker(source.name).parse(first.text, 1);
    if (record.kind !== 'header') throw new LogError(source.name, 1, 'expected a header line');
    this.header = record.header;
    this.headerEnd = first.next;
  }

  get name(): string {
    return this.source.name;
  }

  close(): void {
    this.source.close();
  }

  /** Reads every record from the top (or from a checkpoint), checking each line. */
  *records(start?: ReadStart): Generator<LineRecord> {
    const checker = this.checkerFor(start);
    for (const line of this.lines(start, checker)) {
      yield { line: line.line, offset: line.offset, record: withLineOffset(line.offset, () => checker.parse(line.text, line.line)) };
    }
  }

  /**
   * Every line's text from the top (or a checkpoint), without parsing it. Checksums are checked
   * when `checker` is given and `parse` is not used on it (replay compares texts, not objects).
   */
  *lines(start?: ReadStart, parsing?: LineChecker, check = true): Generator<RawLine> {
    const name = this.source.name;
    const fromTop = start === undefined || start.checkpoint === undefined;
    const checker = parsing ?? this.checkerFor(start);
    const checking = parsing === undefined && check;
    let offset = fromTop ? 0 : (start as ReadStart).offset;
    let line = fromTop ? 1 : (start as ReadStart).line;
    let pending = '';
    let pendingAscii = true;
    let lastWasEnd = false;
    let lineOffset = offset;
    const size = this.source.size;
    const decoder = new TextDecoder();
    while (offset < size) {
      const bytes = this.source.read(offset, READ_CHUNK);
      if (bytes.length === 0) break;
      offset += bytes.length;
      const decoded = decoder.decode(bytes, { stream: offset < size });
      // A chunk that decodes to as many characters as it has bytes is ASCII: byte offsets are
      // character offsets, no need to measure each line.
      const ascii: boolean = decoded.length === bytes.length && pendingAscii;
      const text = pending + decoded;
      let cursor = 0;
      for (;;) {
        const newline = text.indexOf('\n', cursor);
        if (newline < 0) break;
        const lineText = text.slice(cursor, newline);
        lastWasEnd = lineText.startsWith('{"end":');
        const base = checking ? withLineOffset(lineOffset, () => checker.check(lineText, line)) : '';
        yield { line, offset: lineOffset, text: lineText, base };
        lineOffset += (ascii ? lineText.length : byteLength(lineText)) + 1;
        line++;
        cursor = newline + 1;
      }
      pending = text.slice(cursor);
      pendingAscii = ascii || byteLength(pending) === pending.length;
    }
    this.ended = { truncated: pending.length > 0, lastLine: line - 1 };
    if (pending.length > 0 && (lastWasEnd || parsing?.finished === true)) {
      throw new LogError(name, line, 'content after the closing line (the log was appended to)');
    }
    // A log read twice (verify, then a fold) warns once.
    const warn = (warning: string): void => {
      if (!this.warnings.includes(warning)) this.warnings.push(warning);
    };
    if (pending.length > 0) {
      warn(`${name}:${line}: the log ends inside line ${line} (truncated); read up to line ${line - 1}`);
    } else if (parsing !== undefined && !parsing.finished) {
      warn(`${name}:${line - 1}: no closing line (the writer stopped early); read ${parsing.eventsSeen} events`);
    }
  }

  /**
   * Checks the whole log from the top, as sequential reading does: every line's checksum, event
   * seqs in order and times that never go back, every checkpoint's fields (its `line` its own)
   * and hash, the closing line, nothing after it. Seeking trusts checkpoints; a reader that seeks
   * calls this first so that damage anywhere is named at its first line, not only damage inside
   * the interval it folds.
   * @throws LogError at the first damaged line
   */
  verify(): void {
    for (const record of this.records()) void record;
  }

  /** After a full read: whether the file ended inside a line, and its last whole line. */
  ended: { truncated: boolean; lastLine: number } | undefined;

  private checkerFor(start: ReadStart | undefined): LineChecker {
    const fromTop = start === undefined || start.checkpoint === undefined;
    return fromTop ? new LineChecker(this.source.name) : new LineChecker(this.source.name, { hash: start.hash, seq: start.seq, version: this.header.version });
  }

  /** Every event from the top, checked. */
  *events(start?: ReadStart): Generator<SimEvent> {
    for (const { record } of this.records(start)) if (record.kind === 'event') yield record.event;
  }

  /**
   * The latest point to start reading from at or before event `seq` (or before virtual time
   * `time`): a checkpoint, or the top of the log.
   */
  startBefore(target: { readonly seq?: number; readonly time?: number }): ReadStart {
    const top: ReadStart = { offset: 0, line: 1, hash: '', seq: 0, checkpoint: undefined };
    // Binary search over byte offsets for the last checkpoint line that is not past the target.
    let low = this.headerEnd;
    let high = this.source.size;
    let best: ReadStart = top;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const found = this.nextCheckpoint(middle);
      if (found === undefined) {
        high = middle;
        continue;
      }
      const checkpoint = found.checkpoint as LogCheckpoint;
      const past = target.seq !== undefined ? checkpoint.seq > target.seq : checkpoint.t > (target.time ?? Infinity);
      if (past) {
        high = middle;
      } else {
        best = found;
        low = found.offset + 1;
      }
    }
    return best;
  }

  /** The first checkpoint line starting after `offset` (at a line start after it). */
  private nextCheckpoint(offset: number): ReadStart | undefined {
    const marker = Buffer.from('\n{"checkpoint":');
    const size = this.source.size;
    let position = Math.max(0, offset - 1);
    while (position < size) {
      const bytes = this.source.read(position, CHUNK + marker.length);
      if (bytes.length === 0) return undefined;
      const index = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(marker);
      if (index >= 0) {
        const start = position + index + 1;
        const line = this.lineAt(start);
        if (line === undefined) return undefined;
        const base = line.text.slice(0, line.text.length - 1 - CHECK_SUFFIX_LENGTH) + '}';
        try {
          const checkpoint = (JSON.parse(base) as { checkpoint: LogCheckpoint }).checkpoint;
          checkCheckpoint(checkpoint as unknown as Record<string, unknown>, this.source.name, checkpoint.line, chainFor(this.header.version).digestDigits);
          return { offset: start, line: checkpoint.line, hash: checkpoint.hash, seq: checkpoint.seq, checkpoint };
        } catch {
          // A damaged checkpoint line: look further; the sequential reader reports the damage.
          position = start;
          continue;
        }
      }
      if (bytes.length < CHUNK + marker.length) return undefined;
      position += CHUNK;
    }
    return undefined;
  }

  /** The whole line starting at `offset`, and the offset after its newline. */
  private lineAt(offset: number): { text: string; next: number } | undefined {
    let position = offset;
    const parts: Uint8Array[] = [];
    for (;;) {
      const bytes = this.source.read(position, CHUNK);
      if (bytes.length === 0) return undefined;
      const newline = bytes.indexOf(10);
      if (newline >= 0) {
        parts.push(bytes.subarray(0, newline));
        const joined = parts.length === 1 ? parts[0] : concat(parts);
        return { text: new TextDecoder().decode(joined), next: position + newline + 1 };
      }
      parts.push(bytes.slice());
      position += bytes.length;
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const encoder = new TextEncoder();

function byteLength(text: string): number {
  // Fast path: ASCII lines (almost every line of a log).
  let ascii = true;
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) > 127) {
      ascii = false;
      break;
    }
  }
  return ascii ? text.length : encoder.encode(text).length;
}
