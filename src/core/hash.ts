/**
 * Non-cryptographic hashing for integrity checks of logs and digests of guest memory; it guards
 * against corruption and truncation, not against an attacker. RunningHash is FNV-1a, 32-bit, run
 * over two lanes with different offsets to get 64 bits, printed as 16 hex digits: the checksum of
 * log format 1, and the digests of memory, images and seeds. xxh32 is the checksum of log format 2
 * (log/chain.ts says how each format chains its lines).
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

/** A 32-bit value as 8 hex digits. */
export function hex32(value: number): string {
  return HEX_BYTE[value >>> 24] + HEX_BYTE[(value >>> 16) & 0xff] + HEX_BYTE[(value >>> 8) & 0xff] + HEX_BYTE[value & 0xff];
}

// ---------------------------------------------------------------- XXH32 (log format 2)

const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;
const P4 = 0x27d4eb2f | 0;
const P5 = 0x165667b1 | 0;

function rotl(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

/**
 * XXH32 (Yann Collet's xxHash, 32-bit: github.com/Cyan4973/xxHash, doc/xxhash_spec.md) of bytes
 * `from` to `to` of `bytes`, seeded, as a signed 32-bit integer. `view` is a DataView over the same
 * buffer as `bytes` (the words are read little-endian through it, one load each). Four independent
 * lanes over 16-byte stripes: about 0.3 ns a byte here, against 1.3 for FNV-1a's one chain.
 * test/core/hash.test.ts checks it against the reference C code (xxhash-wasm).
 */
export function xxh32(bytes: Uint8Array, view: DataView, from: number, to: number, seed: number): number {
  const length = to - from;
  const base = bytes.byteOffset;
  let at = from;
  let hash: number;
  if (length >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = to - 16;
    do {
      v1 = Math.imul(rotl((v1 + Math.imul(view.getInt32(base + at, true), P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(view.getInt32(base + at + 4, true), P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(view.getInt32(base + at + 8, true), P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(view.getInt32(base + at + 12, true), P2)) | 0, 13), P1);
      at += 16;
    } while (at <= limit);
    hash = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    hash = (seed + P5) | 0;
  }
  hash = (hash + length) | 0;
  for (; at + 4 <= to; at += 4) hash = Math.imul(rotl((hash + Math.imul(view.getInt32(base + at, true), P3)) | 0, 17), P4);
  for (; at < to; at++) hash = Math.imul(rotl((hash + Math.imul(bytes[at], P5)) | 0, 11), P1);
  hash ^= hash >>> 15;
  hash = Math.imul(hash, P2);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, P3);
  hash ^= hash >>> 16;
  return hash;
}
