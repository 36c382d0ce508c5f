/**
 * Non-cryptographic hashing for integrity checks of logs and digests of guest memory. The log's
 * hash guards against corruption and truncation, not against an attacker. FNV-1a, 32-bit, run
 * over two lanes with different offsets to get 64 bits, printed as 16 hex digits.
 */

export const FNV_PRIME = 0x01000193;
const OFFSET_LOW = 0x811c9dc5 | 0;
const OFFSET_HIGH = 0x6c62272e | 0;

export class RunningHash {
  private low = OFFSET_LOW;
  private high = OFFSET_HIGH;

  /** Feeds the UTF-16 code units of a string. */
  update(text: string): this {
    let low = this.low;
    let high = this.high;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      low = Math.imul(low ^ code, FNV_PRIME);
      high = Math.imul(high ^ (code + 0x9e37), FNV_PRIME);
    }
    this.low = low;
    this.high = high;
    return this;
  }

  /** Feeds bytes `from` to `to` of `bytes` (an ASCII line as the log writer builds it: the same as `update` of its text). */
  updateBytes(bytes: Uint8Array, from: number, to: number): this {
    let low = this.low;
    let high = this.high;
    for (let index = from; index < to; index++) {
      const code = bytes[index];
      low = Math.imul(low ^ code, FNV_PRIME);
      high = Math.imul(high ^ (code + 0x9e37), FNV_PRIME);
    }
    this.low = low;
    this.high = high;
    return this;
  }

  digest(): string {
    return hex32(this.high) + hex32(this.low);
  }

  /** The low lane alone, as 8 hex digits: the per-line checksum of the log. */
  lineCheck(): string {
    return hex32(this.low);
  }

  state(): [number, number] {
    return [this.low, this.high];
  }

  /** The low lane (the writer hashes bytes itself and hands the lanes back with setState). */
  get lowLane(): number {
    return this.low;
  }

  get highLane(): number {
    return this.high;
  }

  setState(low: number, high: number): void {
    this.low = low | 0;
    this.high = high | 0;
  }

  /** The hash whose digest() is `digest` (to carry on checking from a checkpoint). */
  static fromDigest(digest: string): RunningHash {
    if (!/^[0-9a-f]{16}$/.test(digest)) throw new RangeError(`not a hash digest: ${digest}`);
    return RunningHash.fromState([Number.parseInt(digest.slice(8), 16) | 0, Number.parseInt(digest.slice(0, 8), 16) | 0]);
  }

  static fromState(state: readonly [number, number]): RunningHash {
    const hash = new RunningHash();
    hash.low = state[0] | 0;
    hash.high = state[1] | 0;
    return hash;
  }
}

export function hashString(text: string): string {
  return new RunningHash().update(text).digest();
}

/** Digest of a range of 32-bit words (guest memory). */
export function hashWords(words: Int32Array, start = 0, end = words.length): string {
  let low = OFFSET_LOW;
  let high = OFFSET_HIGH;
  for (let index = start; index < end; index++) {
    const word = words[index];
    low = Math.imul(low ^ word, FNV_PRIME);
    high = Math.imul(high ^ (word >>> 16) ^ (word << 16), FNV_PRIME);
  }
  return hex32(high) + hex32(low);
}

/** The two hex digits of each byte: hex32 runs once per log line, and toString(16) with padStart cost 10% of a logged run. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function hex32(value: number): string {
  return HEX_BYTE[value >>> 24] + HEX_BYTE[(value >>> 16) & 0xff] + HEX_BYTE[(value >>> 8) & 0xff] + HEX_BYTE[value & 0xff];
}
