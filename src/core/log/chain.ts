/**
 * The running checksum of a log's lines (docs/event-log.md, "Checksums"), in the log's format
 * version:
 *
 *   version 1  FNV-1a over the UTF-16 code units of each line (without its `h` key, with its
 *              newline), in two lanes; `h` is the low lane after the line, a checkpoint's and the
 *              closing line's `hash` both lanes (16 hex digits) after the lines before it.
 *   version 2  XXH32 of each line's UTF-8 bytes (the same text), seeded with the previous line's
 *              value (0 for the header); `h` is that value, and `hash` the value of the line before
 *              (8 hex digits). Four lanes over 16-byte stripes instead of one multiply per byte.
 *
 * The writer writes version 2; readers check both.
 */
import { RunningHash, hex32, xxh32 } from '../hash.js';

/**
 * The UTF-8 bytes of the line being added, shared by every XxhChain (add runs to its end before
 * another starts): a copy of a chain, one per event line when replay checks a log line by line, is
 * then just its value.
 */
let scratch = new Uint8Array(1 << 10);
let scratchView = new DataView(scratch.buffer);
const encoder = new TextEncoder();

export interface LineChain {
  /** The log format version whose checksum this is. */
  readonly version: number;
  /** How many hex digits a checkpoint's or the closing line's `hash` has. */
  readonly digestDigits: number;
  /** Adds a line (`base`: its JSON text without the `h` key; the newline is added here) and returns its `h`. */
  add(base: string): string;
  /** The `hash` a checkpoint or the closing line written now carries: of every line added so far. */
  digest(): string;
  /** An independent copy (to check a line on its own, from where the chain was). */
  copy(): LineChain;
}

/** Version 1: FNV-1a over UTF-16 code units, two lanes. */
export class FnvChain implements LineChain {
  readonly version = 1;
  readonly digestDigits = 16;

  constructor(private readonly hash = new RunningHash()) {}

  add(base: string): string {
    this.hash.update(base);
    this.hash.update('\n');
    return this.hash.lineCheck();
  }

  digest(): string {
    return this.hash.digest();
  }

  copy(): FnvChain {
    return new FnvChain(RunningHash.fromState(this.hash.state()));
  }

  static fromDigest(digest: string): FnvChain {
    return new FnvChain(RunningHash.fromDigest(digest));
  }
}

/** Version 2: XXH32 of each line's UTF-8 bytes, seeded with the previous line's value. */
export class XxhChain implements LineChain {
  readonly version = 2;
  readonly digestDigits = 8;

  constructor(private current = 0) {}

  add(base: string): string {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; and the newline.
    const room = base.length * 3 + 1;
    if (room > scratch.length) {
      scratch = new Uint8Array(Math.max(room, scratch.length * 2));
      scratchView = new DataView(scratch.buffer);
    }
    const written = encoder.encodeInto(base, scratch).written;
    scratch[written] = 10;
    this.current = xxh32(scratch, scratchView, 0, written + 1, this.current);
    return hex32(this.current);
  }

  /**
   * Adds a line already written as bytes `from` to `to` of `bytes` (its newline included; `view`
   * over the same buffer): the writer's way, with no string. Returns the new value.
   */
  addBytes(bytes: Uint8Array, view: DataView, from: number, to: number): number {
    this.current = xxh32(bytes, view, from, to, this.current);
    return this.current;
  }

  digest(): string {
    return hex32(this.current);
  }

  copy(): XxhChain {
    return new XxhChain(this.current);
  }

  static fromDigest(digest: string): XxhChain {
    if (!/^[0-9a-f]{8}$/.test(digest)) throw new RangeError(`not a log format 2 hash: ${digest}`);
    return new XxhChain(Number.parseInt(digest, 16) | 0);
  }
}

/** A new chain for a log of this format version (1, or 2 and later). */
export function chainFor(version: number): LineChain {
  return version === 1 ? new FnvChain() : new XxhChain();
}

/** The chain of a log of this format version, carried on from a checkpoint's `hash`. */
export function chainFromDigest(version: number, digest: string): LineChain {
  return version === 1 ? FnvChain.fromDigest(digest) : XxhChain.fromDigest(digest);
}

/**
 * The format version a header line declares, read from its text before its checksum is checked
 * (the checksum depends on it), or undefined when the line does not start as a header does.
 */
export function headerVersion(line: string): number | undefined {
  const match = /^\{"format":"vmmsim-log","version":(\d{1,9})[,}]/.exec(line);
  return match === null ? undefined : Number(match[1]);
}
