/**
 * Writes the event log. Lines are serialised by hand for the event envelope (JSON.stringify only
 * for the small `data` object), hashed as they go, and buffered into chunks handed to a sink; the
 * sink (a file, a string, a network stream) lives outside the simulation.
 */
import { XxhChain } from './chain.js';
import type { SimEvent } from '../events.js';
import { LOG_FORMAT, LOG_VERSION, type LogHeader } from './format.js';
import { serializeData } from './serialize.js';

export type ChunkSink = (chunk: string) => void;

/** Scratch for a number's digits (a safe integer has at most 16). */
const DIGITS = new Int32Array(24);
/** The character codes of the hex digits, for a line's checksum. */
const HEX_CODES = new Uint8Array([...'0123456789abcdef'].map((digit) => digit.charCodeAt(0)));

export class LogWriter {
  /** The running checksum (format 2: XXH32 per line, chain.ts). */
  private readonly chain = new XxhChain();
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

  /** Characters of the lines written since the last checkpoint line (bytes, for ASCII lines). */
  get charsSinceCheckpoint(): number {
    return this.sinceCheckpoint;
  }

  /** Characters of the last checkpoint line (0 before the first). */
  get lastCheckpointChars(): number {
    return this.checkpointChars;
  }

  private sinceCheckpoint = 0;
  private checkpointChars = 0;

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
      this.line(this.serializer.serialize(event));
    }
    this.events++;
    this.lastTime = event.t;
  };

  /**
   * An event's line written as ASCII bytes straight into `bytes`, then hashed in one pass over
   * them: no string per line (building, flattening and joining them was most of a logged run's
   * time). Returns false, having written nothing, when a part is not ASCII.
   */
  private appendBytes(event: SimEvent): boolean {
    if (this.closed) throw new Error('log is closed');
    const start = this.pos;
    this.ascii('{"seq":');
    this.number(event.seq);
    this.ascii(',"t":');
    this.number(event.t);
    this.ascii(',"src":"');
    const ascii = this.plainAscii(event.src) && this.ascii('","type":"') && this.ascii(event.type) && this.ascii('","data":') && this.data(event);
    if (!ascii || !Number.isSafeInteger(event.seq) || !Number.isSafeInteger(event.t) || event.seq < 0 || event.t < 0) {
      this.pos = start;
      return false;
    }
    this.seal(start);
    this.lines++;
    if (this.pos + this.bufferedChars >= this.chunkChars) this.flush();
    return true;
  }

  /**
   * Hashes the line written from `start` with the closing brace and newline it is read with (put
   * after it for the hash, then written over), then writes its checksum and its end:
   * `,"h":"xxxxxxxx"}` and a newline. One pass over the bytes, rather than a hash step inside each write.
   */
  private seal(start: number): void {
    // The hash covers the line without its checksum: the closing brace and the newline.
    this.room(2);
    this.bytes[this.pos] = 125;
    this.bytes[this.pos + 1] = 10;
    const low = this.chain.addBytes(this.bytes, this.view, start, this.pos + 2);
    this.ascii(',"h":"');
    this.room(8);
    const bytes = this.bytes;
    let pos = this.pos;
    for (let shift = 28; shift >= 0; shift -= 4) bytes[pos++] = HEX_CODES[(low >>> shift) & 15];
    this.pos = pos;
    this.ascii('"}\n');
    this.sinceCheckpoint += this.pos - start;
  }

  private bytes = new Uint8Array(1 << 12);
  /** Over `bytes`' buffer: the checksum reads its words through it. */
  private view = new DataView(this.bytes.buffer);
  private pos = 0;
  private readonly decoder = new TextDecoder();

  private room(count: number): void {
    if (this.pos + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + count));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Writes `text` if it is all ASCII (false otherwise; what was written is abandoned by the caller). The line is hashed when sealed. */
  private ascii(text: string): boolean {
    const length = text.length;
    this.room(length);
    const bytes = this.bytes;
    let pos = this.pos;
    for (let index = 0; index < length; index++) {
      const code = text.charCodeAt(index);
      if (code > 0x7f) return false;
      bytes[pos++] = code;
    }
    this.pos = pos;
    return true;
  }

  /**
   * As ascii, for a string JSON writes as it is between quotes: false also at a quote, a backslash
   * or a control character (the line then goes the string way, which escapes them). One pass: a
   * separate check read a source a second time, and with thousands of VMs the first read of each
   * source missed the cache.
   */
  private plainAscii(text: string): boolean {
    const length = text.length;
    this.room(length);
    const bytes = this.bytes;
    let pos = this.pos;
    for (let index = 0; index < length; index++) {
      const code = text.charCodeAt(index);
      if (code > 0x7f || code < 0x20 || code === 0x22 || code === 0x5c) return false;
      bytes[pos++] = code;
    }
    this.pos = pos;
    return true;
  }

  /** A string value: quoted, if JSON writes it as it is (see plainAscii). */
  private string(text: string): boolean {
    return this.ascii('"') && this.plainAscii(text) && this.ascii('"');
  }

  /** A number or null as JSON.stringify writes it. */
  private value(value: number | null): boolean {
    if (value !== null && value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value)) {
      this.digits(value);
      return true;
    }
    return this.ascii(JSON.stringify(value));
  }

  /**
   * An event's `data` written as bytes, field by field, for the types a run emits most: exactly
   * JSON.stringify's text of the object the monitor builds (keys in the order it builds them; a
   * test compares them), with no string built per event. Other types go through serializeData.
   * False when a part is not written as it is (the caller falls back to the string way).
   */
  private data(event: SimEvent): boolean {
    switch (event.type) {
      case 'exit.io': {
        const d = event.data;
        return this.ascii('{"pc":') && this.value(d.pc) && this.ascii(',"port":') && this.value(d.port) && this.ascii(',"dir":') && this.string(d.dir) && this.ascii(',"value":') && this.value(d.value) && this.ascii(',"reg":') && this.value(d.reg) && this.ascii('}');
      }
      case 'exit.hlt': {
        const d = event.data;
        return this.ascii('{"pc":') && this.value(d.pc) && this.ascii(d.ie ? ',"ie":true}' : ',"ie":false}');
      }
      case 'exit.privileged': {
        const d = event.data;
        return this.ascii('{"pc":') && this.value(d.pc) && this.ascii(',"op":') && this.string(d.op) && this.ascii(',"mode":') && this.string(d.mode) && this.ascii('}');
      }
      case 'exit.preempt': {
        const d = event.data;
        if (!(this.ascii('{"pc":') && this.value(d.pc) && this.ascii(',"pcpu":') && this.value(d.pcpu) && this.ascii(',"ranNs":') && this.value(d.ranNs))) return false;
        return d.by === undefined ? this.ascii('}') : this.ascii(',"by":') && this.string(d.by) && this.ascii('}');
      }
      case 'exit.interrupt': {
        const d = event.data;
        return this.ascii('{"pc":') && this.value(d.pc) && this.ascii(',"line":') && this.value(d.line) && this.ascii('}');
      }
      case 'irq.raise':
      case 'irq.eoi':
        return this.ascii('{"line":') && this.value(event.data.line) && this.ascii('}');
      case 'irq.inject': {
        const d = event.data;
        return this.ascii('{"vector":') && this.value(d.vector) && this.ascii(',"line":') && this.value(d.line) && this.ascii('}');
      }
      case 'vcpu.running':
        return this.ascii('{"pcpu":') && this.value(event.data.pcpu) && this.ascii('}');
      case 'vcpu.runnable':
        return this.ascii('{"reason":') && this.string(event.data.reason) && this.ascii('}');
      case 'vcpu.blocked':
        return this.ascii('{"pc":') && this.value(event.data.pc) && this.ascii('}');
      case 'vm.blocked':
      case 'vm.unblocked':
        return this.ascii('{}');
      case 'timer.armed': {
        const d = event.data;
        return this.ascii('{"mode":') && this.string(d.mode) && this.ascii(',"ns":') && this.value(d.ns) && this.ascii('}');
      }
      default:
        return this.ascii(serializeData(event));
    }
  }

  /** Writes a seq or a time: its digits when it is in [0, MAX_SAFE_INTEGER] (whether it is a safe integer is checked after the line), else String(value). */
  private number(value: number): void {
    if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) this.digits(value);
    else this.ascii(String(value));
  }

  /** Writes the decimal digits of a number already checked to be in [0, MAX_SAFE_INTEGER] (a fraction is cut off). */
  private digits(value: number): void {
    const digits = DIGITS;
    let count = 0;
    let whole = Math.floor(value);
    // Eight digits at a time in int32 arithmetic (a division by 10 the compiler makes a multiply),
    // rather than a floating-point division per digit.
    while (whole >= 1e8) {
      const high = Math.floor(whole / 1e8);
      let low = (whole - high * 1e8) | 0;
      for (let index = 0; index < 8; index++) {
        const next = (low / 10) | 0;
        digits[count++] = 48 + low - next * 10;
        low = next;
      }
      whole = high;
    }
    let rest = whole | 0;
    do {
      const next = (rest / 10) | 0;
      digits[count++] = 48 + rest - next * 10;
      rest = next;
    } while (rest > 0);
    this.room(count);
    const bytes = this.bytes;
    let pos = this.pos;
    while (count > 0) bytes[pos++] = digits[--count];
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
    this.checkpointChars = this.line(JSON.stringify({ checkpoint: { seq, t, line: this.lines + 1, hash: this.chain.digest(), state } }));
    this.sinceCheckpoint = 0;
  }

  /** Writes the closing line and flushes. */
  close(t = this.lastTime): void {
    if (this.closed) return;
    this.line(JSON.stringify({ end: { events: this.events, t, hash: this.chain.digest() } }));
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

  /** Writes a line (see above) and returns its length in characters. */
  private line(text: string): number {
    if (this.closed) throw new Error('log is closed');
    this.drainBytes();
    this.lines++;
    const check = this.chain.add(text);
    const withCheck = `${text.slice(0, -1)},"h":"${check}"}\n`;
    this.buffer.push(withCheck);
    this.bufferedChars += withCheck.length;
    this.sinceCheckpoint += withCheck.length;
    if (this.bufferedChars >= this.chunkChars) this.flush();
    return withCheck.length;
  }
}

/** An event as its log line is written (without the checksum): `{"seq":..,"t":..,"src":..,"type":..,"data":..}`. */
export class EventSerializer {
  serialize(event: SimEvent): string {
    const src = plain(event.src) ? `"${event.src}"` : JSON.stringify(event.src);
    return `{"seq":${event.seq},"t":${event.t},"src":${src},"type":"${event.type}","data":${serializeData(event)}}`;
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
