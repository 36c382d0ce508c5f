/**
 * Writes the event log. Lines are serialised by hand for the event envelope (JSON.stringify only
 * for the small `data` object), hashed as they go, and buffered into chunks handed to a sink; the
 * sink (a file, a string, a network stream) lives outside the simulation.
 */
import { RunningHash } from '../hash.js';
import type { SimEvent } from '../events.js';
import { LOG_FORMAT, LOG_VERSION, type LogHeader } from './format.js';
import { serializeData } from './serialize.js';

export type ChunkSink = (chunk: string) => void;

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
    this.lineBody(this.serializer.serializeBody(event));
    this.events++;
    this.lastTime = event.t;
  };

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
  private readonly quotedSources = new Map<string, string>();

  serialize(event: SimEvent): string {
    return `${this.serializeBody(event)}}`;
  }

  /** The line without its closing brace. */
  serializeBody(event: SimEvent): string {
    let src = this.quotedSources.get(event.src);
    if (src === undefined) {
      src = JSON.stringify(event.src);
      this.quotedSources.set(event.src, src);
    }
    return `{"seq":${event.seq},"t":${event.t},"src":${src},"type":"${event.type}","data":${serializeData(event)}`;
  }
}
