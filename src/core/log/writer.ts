/**
 * Writes the event log. Lines are serialised by hand for the event envelope (JSON.stringify only
 * for the small `data` object), hashed as they go, and buffered into chunks handed to a sink; the
 * sink (a file, a string, a network stream) lives outside the simulation.
 */
import { FNV_PRIME, RunningHash } from '../hash.js';
import type { SimEvent } from '../events.js';
import { LOG_FORMAT, LOG_VERSION, type LogHeader } from './format.js';
import { serializeData } from './serialize.js';

export type ChunkSink = (chunk: string) => void;

/** Scratch for a number's digits (a safe integer has at most 16). */
const DIGITS = new Int32Array(16);

export class LogWriter {
  private readonly hash = new RunningHash();
  private buffer: string[] = [];
  private bufferedChars = 0;
  private events = 0;
  private lastTime = 0;
  private closed = false;

  constructor(
    private readonly sink: ChunkSink,
    private readonly chunkChars = 1 << 16,
  ) {}

  get eventCount(): number {
    return this.events;
  }

  writeHeader(header: Omit<LogHeader, 'format' | 'version'>): void {
    const line = JSON.stringify({
      format: LOG_FORMAT,
      version: LOG_VERSION,
      engine: header.engine,
      seed: header.seed,
      scenario: header.scenario,
      ...(header.fork === undefined ? {} : { fork: header.fork }),
      ...(header.mutation === undefined ? {} : { mutation: header.mutation }),
      ...(header.policy === undefined ? {} : { policy: { module: header.policy.module, sha256: header.policy.sha256, label: header.policy.label } }),
    });
    this.line(line);
  }

  /** Appends one event; call in seq order. */
  readonly append = (event: SimEvent): void => {
    if (!this.appendBytes(event)) {
      // A character beyond ASCII (a VM's name): the line goes the way of every other line.
      this.lineBody(this.serializer.serializeBody(event));
    }
    this.events++;
    this.lastTime = event.t;
  };

  /**
   * An event's line written as ASCII bytes straight into `bytes`, hashed byte by byte as it goes:
   * no string per line (building, flattening and joining them was most of a logged run's time).
   * Returns false, having written nothing, when a part is not ASCII.
   */
  private appendBytes(event: SimEvent): boolean {
    if (this.closed) throw new Error('log is closed');
    const start = this.pos;
    const hash = this.hash;
    const low = hash.lowLane;
    const high = hash.highLane;
    this.ascii('{"seq":');
    this.number(event.seq);
    this.ascii(',"t":');
    this.number(event.t);
    this.ascii(',"src":"');
    const src = event.src;
    let ascii = plain(src) && this.ascii(src);
    if (ascii) ascii = this.ascii('","type":"') && this.ascii(event.type) && this.ascii('","data":') && this.ascii(serializeData(event));
    if (!ascii || !Number.isSafeInteger(event.seq) || !Number.isSafeInteger(event.t) || event.seq < 0 || event.t < 0) {
      this.pos = start;
      hash.setState(low, high);
      return false;
    }
    // The hash covers the line without its checksum: the closing brace and the newline.
    hash.update('}\n');
    this.raw(',"h":"');
    this.raw(hash.lineCheck());
    this.raw('"}\n');
    this.lines++;
    if (this.pos + this.bufferedChars >= this.chunkChars) this.flush();
    return true;
  }

  private bytes = new Uint8Array(1 << 12);
  private pos = 0;
  private readonly decoder = new TextDecoder();

  private room(count: number): void {
    if (this.pos + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + count));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }

  /** Writes and hashes `text` if it is all ASCII (false otherwise; what was written is abandoned by the caller). */
  private ascii(text: string): boolean {
    const length = text.length;
    this.room(length);
    const bytes = this.bytes;
    let pos = this.pos;
    const hash = this.hash;
    let low = hash.lowLane;
    let high = hash.highLane;
    for (let index = 0; index < length; index++) {
      const code = text.charCodeAt(index);
      if (code > 0x7f) return false;
      bytes[pos++] = code;
      low = Math.imul(low ^ code, FNV_PRIME);
      high = Math.imul(high ^ (code + 0x9e37), FNV_PRIME);
    }
    this.pos = pos;
    hash.setState(low, high);
    return true;
  }

  /** Writes and hashes the decimal digits of a non-negative safe integer (checked by the caller after the line). */
  private number(value: number): void {
    if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER)) {
      this.ascii(String(value));
      return;
    }
    const digits = DIGITS;
    let count = 0;
    let rest = Math.floor(value);
    do {
      const next = Math.floor(rest / 10);
      digits[count++] = 48 + rest - next * 10;
      rest = next;
    } while (rest > 0);
    this.room(count);
    const bytes = this.bytes;
    let pos = this.pos;
    const hash = this.hash;
    let low = hash.lowLane;
    let high = hash.highLane;
    while (count > 0) {
      const code = digits[--count];
      bytes[pos++] = code;
      low = Math.imul(low ^ code, FNV_PRIME);
      high = Math.imul(high ^ (code + 0x9e37), FNV_PRIME);
    }
    this.pos = pos;
    hash.setState(low, high);
  }

  /** Writes ASCII `text` without hashing it (the checksum and what follows it). */
  private raw(text: string): void {
    const length = text.length;
    this.room(length);
    const bytes = this.bytes;
    let pos = this.pos;
    for (let index = 0; index < length; index++) bytes[pos++] = text.charCodeAt(index);
    this.pos = pos;
  }

  /** The bytes written so far become a string in `buffer`, in line order with the lines written as strings. */
  private drainBytes(): void {
    if (this.pos === 0) return;
    const text = this.decoder.decode(this.bytes.subarray(0, this.pos));
    this.pos = 0;
    this.buffer.push(text);
    this.bufferedChars += text.length;
  }

  private readonly serializer = new EventSerializer();

  /** Writes a checkpoint line carrying the state of every actor. `line` is its line number. */
  checkpoint(seq: number, t: number, state: unknown): void {
    this.line(JSON.stringify({ checkpoint: { seq, t, line: this.lines + 1, hash: this.hash.digest(), state } }));
  }

  /** Writes the closing line and flushes. */
  close(t = this.lastTime): void {
    if (this.closed) return;
    this.line(JSON.stringify({ end: { events: this.events, t, hash: this.hash.digest() } }));
    this.closed = true;
    this.flush();
  }

  flush(): void {
    this.drainBytes();
    if (this.buffer.length === 0) return;
    this.sink(this.buffer.join(''));
    this.buffer = [];
    this.bufferedChars = 0;
  }

  /**
   * Appends a line: the JSON object `text`, with its checksum `h` added as the last key. The
   * running hash covers each line as it is without `h`, so `h` of a line depends on that line and
   * every line before it: the first line whose `h` does not match is the line that was changed.
   */
  private lines = 0;

  private line(text: string): void {
    this.lineBody(text.slice(0, -1));
  }

  /** As line, given the JSON object without its closing brace (an event's line is built so: no copy to cut it off). */
  private lineBody(body: string): void {
    if (this.closed) throw new Error('log is closed');
    this.drainBytes();
    this.lines++;
    this.hash.update(body);
    this.hash.update('}\n');
    const withCheck = `${body},"h":"${this.hash.lineCheck()}"}\n`;
    this.buffer.push(withCheck);
    this.bufferedChars += withCheck.length;
    if (this.bufferedChars >= this.chunkChars) this.flush();
  }
}

/** An event as its log line is written (without the checksum): `{"seq":..,"t":..,"src":..,"type":..,"data":..}`. */
export class EventSerializer {
  serialize(event: SimEvent): string {
    return `${this.serializeBody(event)}}`;
  }

  /** The line without its closing brace. */
  serializeBody(event: SimEvent): string {
    const src = plain(event.src) ? `"${event.src}"` : JSON.stringify(event.src);
    return `{"seq":${event.seq},"t":${event.t},"src":${src},"type":"${event.type}","data":${serializeData(event)}`;
  }
}

/**
 * Whether JSON writes a string as it is between quotes (no quote, backslash or control character):
 * a source is checked each time rather than looked up in a cache of quoted sources, which with
 * thousands of sources missed the CPU cache at every event.
 */
function plain(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return false;
  }
  return true;
}
