/**
 * Reads and checks an event log, line by line. Each line's checksum `h` is checked against the
 * running hash, so a changed line is named, not just a changed file; events must be numbered
 * without gaps and of a known type; each checkpoint's and the closing line's hash must match. A
 * log that stops before its closing line (a writer that crashed) is still read up to its last
 * whole line, with a warning saying where it ends.
 */
import { chainFor, chainFromDigest, headerVersion, type LineChain } from './chain.js';
import { isEventType, type SimEvent } from '../events.js';
import { ENGINE_VERSION } from '../version.js';
import { DRIVER_DOMAIN_NAME } from '../scenario/schema.js';
import { CHECK_SUFFIX_LENGTH, LOG_FORMAT, LOG_VERSION, type LogCheckpoint, type LogEnd, type LogHeader } from './format.js';

export class LogError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
    /** Byte offset of the damaged line's start in the file, where the reader knows it. */
    readonly offset?: number,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'LogError';
  }

  /** The same error, with the byte offset of its line (kept if it already has one). */
  at(offset: number): LogError {
    return this.offset !== undefined ? this : new LogError(this.file, this.line, this.detail, offset);
  }
}

/** Runs `read`; a LogError it throws gets the byte offset of the line being read. */
function locating<T>(offset: number | (() => number), read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof LogError ? error.at(typeof offset === 'number' ? offset : offset()) : error;
  }
}
export { locating as withLineOffset };

export type LogRecord =
  | { readonly kind: 'header'; readonly header: LogHeader }
  | { readonly kind: 'event'; readonly event: SimEvent }
  | { readonly kind: 'checkpoint'; readonly checkpoint: LogCheckpoint }
  | { readonly kind: 'end'; readonly end: LogEnd };

/**
 * Checks and parses lines one at a time. Start it at the top of a log (the header's format version
 * chooses the checksum), or at a checkpoint (with the running hash the checkpoint carries, the seq
 * of the next event and the log's format version).
 */
export class LineChecker {
  /** The running checksum, once the format version is known (from the header line, or given). */
  private chain: LineChain | undefined;
  private nextSeq: number;
  private headerSeen: boolean;
  private ended = false;
  private lastTime = 0;
  /** The VMs the header's scenario defines: an event of any other VM is damage. */
  private vmNames: ReadonlySet<string> | undefined;

  constructor(
    readonly file: string,
    start?: { readonly hash: string; readonly seq: number; readonly version: number },
  ) {
    this.chain = start === undefined ? undefined : chainFromDigest(start.version, start.hash);
    this.nextSeq = start?.seq ?? 0;
    this.headerSeen = start !== undefined;
  }

  get eventsSeen(): number {
    return this.nextSeq;
  }

  get finished(): boolean {
    return this.ended;
  }

  /** The base of a line: the JSON text without its checksum key. Checks the checksum. */
  check(line: string, lineNumber: number): string {
    const length = line.length;
    const suffixStart = length - 1 - CHECK_SUFFIX_LENGTH;
    if (length < CHECK_SUFFIX_LENGTH + 2 || line.charCodeAt(length - 1) !== 125 || !line.startsWith(',"h":"', suffixStart)) {
      if (!line.startsWith('{')) throw new LogError(this.file, lineNumber, 'not a JSON line');
      throw new LogError(this.file, lineNumber, 'line has no checksum "h" (not written by vmmsim, or cut)');
    }
    const base = line.slice(0, suffixStart) + '}';
    const chain = (this.chain ??= this.firstChain(line, lineNumber));
    // The chain before a checkpoint or the closing line is what its `hash` must be (parse checks it).
    const before = line.startsWith('{"checkpoint":') || line.startsWith('{"end":') ? chain.digest() : '';
    if (line.slice(suffixStart + 6, length - 2) !== chain.add(base)) {
      throw new LogError(this.file, lineNumber, 'checksum mismatch: this line was changed');
    }
    this.lastDigest = before;
    return base;
  }

  /**
   * The chain of a log read from the top: the header's format version says which checksum its
   * lines carry (read from the text, before the checksum it decides is checked). A version newer
   * than this engine reads is refused here, by name, rather than as a checksum mismatch.
   */
  private firstChain(line: string, lineNumber: number): LineChain {
    const version = headerVersion(line);
    if (version !== undefined && version > LOG_VERSION) {
      throw new LogError(this.file, lineNumber, `log format version ${version} is newer than this engine reads (${LOG_VERSION}); engine ${ENGINE_VERSION}`);
    }
    return chainFor(version ?? LOG_VERSION);
  }

  /** Running hash of every line before the last checked one, when that line is a checkpoint or the closing line. */
  private lastDigest = '';

  /** Checks and parses one line. */
  parse(line: string, lineNumber: number): LogRecord {
    if (this.ended) throw new LogError(this.file, lineNumber, 'content after the closing line');
    const base = this.check(line, lineNumber);
    let value: unknown;
    try {
      value = JSON.parse(base);
    } catch {
      throw new LogError(this.file, lineNumber, 'not a JSON line');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new LogError(this.file, lineNumber, 'expected a JSON object');
    }
    const record = value as Record<string, unknown>;
    if (!this.headerSeen) {
      this.headerSeen = true;
      const header = checkHeader(record, this.file, lineNumber);
      this.vmNames = vmNamesOf(header);
      return { kind: 'header', header };
    }
    if ('seq' in record) {
      const event = checkEvent(record, this.file, lineNumber);
      if (event.seq !== this.nextSeq) throw new LogError(this.file, lineNumber, `expected event seq ${this.nextSeq}, found ${event.seq}`);
      if (event.t < this.lastTime) throw new LogError(this.file, lineNumber, `time goes back: ${event.t} after ${this.lastTime}`);
      if (this.vmNames !== undefined && event.src.startsWith('vm/')) {
        const slash = event.src.indexOf('/', 3);
        const vm = event.src.slice(3, slash < 0 ? undefined : slash);
        if (!this.vmNames.has(vm)) throw new LogError(this.file, lineNumber, `an event of VM ${JSON.stringify(vm)}, which the header's scenario does not define`);
      }
      this.nextSeq++;
      this.lastTime = event.t;
      return { kind: 'event', event };
    }
    if ('checkpoint' in record) {
      const checkpoint = checkCheckpoint(record.checkpoint, this.file, lineNumber, this.chain?.digestDigits);
      if (checkpoint.hash !== this.lastDigest) throw new LogError(this.file, lineNumber, 'checkpoint hash does not match the lines before it');
      if (checkpoint.seq !== this.nextSeq) throw new LogError(this.file, lineNumber, `checkpoint at seq ${checkpoint.seq}, expected ${this.nextSeq}`);
      return { kind: 'checkpoint', checkpoint };
    }
    if ('end' in record) {
      const end = record.end as LogEnd;
      const digits = this.chain?.digestDigits ?? DIGEST_DIGITS;
      if (typeof end !== 'object' || end === null || !Number.isSafeInteger(end.events) || !Number.isSafeInteger(end.t) || typeof end.hash !== 'string' || !isHex(end.hash, digits)) {
        throw new LogError(this.file, lineNumber, `closing line must be { events, t: integers, hash: ${digits} hex digits }`);
      }
      if (end.hash !== this.lastDigest) throw new LogError(this.file, lineNumber, 'closing hash does not match the lines before it');
      if (end.events !== this.nextSeq) throw new LogError(this.file, lineNumber, `closing line counts ${end.events} events, the log has ${this.nextSeq}`);
      this.ended = true;
      return { kind: 'end', end };
    }
    throw new LogError(this.file, lineNumber, 'unknown line: expected an event, a checkpoint or the closing line');
  }
}

export interface ParsedLog {
  readonly header: LogHeader;
  readonly events: SimEvent[];
  readonly checkpoints: LogCheckpoint[];
  readonly end: LogEnd | undefined;
  readonly warnings: string[];
}

/** Reads a whole log held in memory. */
export function readLog(text: string, file = '<log>'): ParsedLog {
  if (text.charCodeAt(0) === 0xfeff) throw new LogError(file, 1, 'the log starts with a byte order mark (U+FEFF): vmmsim never writes one; the file was changed');
  const checker = new LineChecker(file);
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
      if (end !== undefined) throw new LogError(file, lineNumber, 'content after the closing line (the log was appended to)');
      warnings.push(`${file}:${lineNumber}: the log ends inside line ${lineNumber} (truncated); read up to line ${lineNumber - 1}`);
      break;
    }
    const start = position;
    const record = locating(
      () => new TextEncoder().encode(text.slice(0, start)).length,
      () => checker.parse(text.slice(start, newline), lineNumber),
    );
    position = newline + 1;
    if (record.kind === 'header') header = record.header;
    else if (record.kind === 'event') events.push(record.event);
    else if (record.kind === 'checkpoint') checkpoints.push(record.checkpoint);
    else end = record.end;
  }
  if (header === undefined) throw new LogError(file, 1, 'empty log: expected a header line');
  if (end === undefined && warnings.length === 0) {
    warnings.push(`${file}:${lineNumber}: no closing line (the writer stopped early); read ${events.length} events`);
  }
  return { header, events, checkpoints, end, warnings };
}

/** The hex digits of a checkpoint's or closing line's hash in this engine's format (chain.ts's XxhChain). */
const DIGEST_DIGITS = 8;

/** Whether `text` is exactly `digits` lowercase hex digits. */
function isHex(text: string, digits: number): boolean {
  return text.length === digits && /^[0-9a-f]+$/.test(text);
}

/** The VM names of a header's resolved scenario, or undefined where they cannot be listed. */
function vmNamesOf(header: LogHeader): ReadonlySet<string> | undefined {
  const vms = (header.scenario as { vms?: unknown } | undefined)?.vms;
  if (!Array.isArray(vms)) return undefined;
  const names = new Set<string>();
  for (const vm of vms as unknown[]) {
    const name = (vm as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return undefined;
    names.add(name);
  }
  // A driver domain's VM is not in the source form's list: host.driverDomain stands for it.
  const host = (header.scenario as { host?: unknown } | undefined)?.host;
  if (typeof host === 'object' && host !== null && 'driverDomain' in host) names.add(DRIVER_DOMAIN_NAME);
  return names;
}

/**
 * A checkpoint's fields: seq, t and line integers (line its own line number in the file), hash
 * the hex digits of its format's checksum (`digits`: 8 in format 2, 16 in format 1), state an object.
 * @throws LogError
 */
export function checkCheckpoint(value: unknown, file: string, line: number, digits = DIGEST_DIGITS): LogCheckpoint {
  const checkpoint = value as Record<string, unknown> | null;
  if (
    typeof checkpoint !== 'object' ||
    checkpoint === null ||
    !Number.isSafeInteger(checkpoint.seq) ||
    !Number.isSafeInteger(checkpoint.t) ||
    typeof checkpoint.hash !== 'string' ||
    !isHex(checkpoint.hash, digits) ||
    typeof checkpoint.state !== 'object' ||
    checkpoint.state === null
  ) {
    throw new LogError(file, line, `checkpoint must be { seq, t, line: integers, hash: ${digits} hex digits, state: an object }`);
  }
  if (checkpoint.line !== line) throw new LogError(file, line, `checkpoint says it is on line ${String(checkpoint.line)}, it is on line ${line}`);
  return checkpoint as unknown as LogCheckpoint;
}

export function checkHeader(record: Record<string, unknown>, file: string, line: number): LogHeader {
  if (record.format !== LOG_FORMAT) throw new LogError(file, line, `not a vmmsim log: expected "format":"${LOG_FORMAT}"`);
  if (typeof record.version !== 'number' || !Number.isSafeInteger(record.version) || record.version < 1) {
    throw new LogError(file, line, `log format version ${JSON.stringify(record.version) ?? 'missing'}: expected an integer from 1 to ${LOG_VERSION}`);
  }
  if (record.version > LOG_VERSION) {
    throw new LogError(file, line, `log format version ${record.version} is newer than this engine reads (${LOG_VERSION}); engine ${ENGINE_VERSION}`);
  }
  if (typeof record.seed !== 'number') throw new LogError(file, line, 'header has no seed');
  if (record.mutation !== undefined && typeof record.mutation !== 'string') throw new LogError(file, line, 'header mutation must be a string');
  if (record.policy !== undefined) checkPolicyModule(record.policy, file, line);
  return record as unknown as LogHeader;
}

function checkPolicyModule(policy: unknown, file: string, line: number): void {
  const record = policy as Record<string, unknown> | null;
  const valid =
    typeof record === 'object' &&
    record !== null &&
    typeof record.module === 'string' &&
    record.module !== '' &&
    typeof record.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(record.sha256) &&
    typeof record.label === 'string';
  if (!valid) throw new LogError(file, line, 'header policy must be { module: a path, sha256: 64 hex digits, label: a string }');
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
