import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import xxhash from 'xxhash-wasm';
import { describe, expect, it } from 'vitest';
import { xxh32 } from '../../src/core/hash.js';
import { FnvChain, XxhChain, chainFor, headerVersion } from '../../src/core/log/chain.js';
import { readLog } from '../../src/core/log/reader.js';
import { LogFile, memorySource, replay, stateAtSeq } from '../../src/index.js';

/** xxh32 of a whole array, as an unsigned number (the reference's form). */
function ours(bytes: Uint8Array, seed: number): number {
  return xxh32(bytes, new DataView(bytes.buffer), 0, bytes.length, seed | 0) >>> 0;
}

describe('XXH32 (log format 2)', () => {
  it("gives xxHash's published values", () => {
    const text = (value: string) => new TextEncoder().encode(value);
    // xxhsum -H32 and the reference's sanity checks: the empty input and "abc" with seed 0.
    expect(ours(text(''), 0).toString(16)).toBe('2cc5d05');
    expect(ours(text('abc'), 0).toString(16)).toBe('32d153ff');
  });

  it('matches the reference C code (xxhash-wasm) for any bytes, seed and position in the buffer', async () => {
    const { h32Raw } = await xxhash();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 7 }), fc.integer({ min: 0, max: 0xffffffff }), (bytes, offset, seed) => {
        // Inside a larger buffer at an odd offset: the words are read unaligned, through the view.
        const buffer = new Uint8Array(offset + bytes.length + 5).fill(0xa5);
        buffer.set(bytes, offset);
        const within = buffer.subarray(offset, offset + bytes.length);
        const view = new DataView(buffer.buffer);
        expect(xxh32(within, view, 0, bytes.length, seed | 0) >>> 0).toBe(h32Raw(bytes, seed) >>> 0);
        expect(xxh32(buffer, view, offset, offset + bytes.length, seed | 0) >>> 0).toBe(h32Raw(bytes, seed) >>> 0);
      }),
      { numRuns: 500 },
    );
  });

  it("chains lines: each line's h is XXH32 of its UTF-8 bytes and newline, seeded with the line before's", async () => {
    const { h32Raw } = await xxhash();
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { minLength: 1, maxLength: 20 }), (lines) => {
        const chain = new XxhChain();
        let previous = 0;
        for (const line of lines) {
          const expected = h32Raw(new TextEncoder().encode(`${line}\n`), previous) >>> 0;
          expect(chain.add(line)).toBe(expected.toString(16).padStart(8, '0'));
          expect(chain.digest()).toBe(expected.toString(16).padStart(8, '0'));
          previous = expected;
        }
        // A copy goes on from the same point, and a digest restores it.
        const copy = chain.copy();
        const restored = XxhChain.fromDigest(chain.digest());
        expect(copy.add('x')).toBe(chain.add('x'));
        expect(restored.add('x')).toBe(copy.digest());
      }),
    );
  });

  it('grows its scratch for long lines of three-byte characters (each line against the reference)', async () => {
    const { h32Raw } = await xxhash();
    const chain = new XxhChain();
    let previous = 0;
    for (let length = 1; length <= 1_400; length++) {
      const line = '€'.repeat(length);
      previous = h32Raw(new TextEncoder().encode(`${line}\n`), previous) >>> 0;
      expect(chain.add(line)).toBe(previous.toString(16).padStart(8, '0'));
    }
  });

  it('refuses a digest that is not 8 hex digits', () => {
    for (const bad of ['', 'xyz', '0123456', '012345678', '0123456789abcdef', '0123456G']) expect(() => XxhChain.fromDigest(bad)).toThrow(new RangeError(`not a log format 2 hash: ${bad}`));
    expect(XxhChain.fromDigest('ffffffff').digest()).toBe('ffffffff');
  });

  it('reads the version from a header line before checking it', () => {
    expect(headerVersion('{"format":"vmmsim-log","version":1,"engine":"0.5.1"')).toBe(1);
    expect(headerVersion('{"format":"vmmsim-log","version":2}')).toBe(2);
    expect(headerVersion('{"format":"vmmsim-log","version":12,"engine":"9.0.0"')).toBe(12);
    expect(headerVersion(' {"format":"vmmsim-log","version":1}')).toBeUndefined();
    expect(headerVersion('{"format":"vmmsim-log","version":1234567890}')).toBeUndefined();
    expect(headerVersion('{"seq":0}')).toBeUndefined();
    expect(chainFor(1)).toBeInstanceOf(FnvChain);
    expect(chainFor(2)).toBeInstanceOf(XxhChain);
  });
});

describe('a log of format 1 (FNV-1a, written by vmmsim 0.5.1) is still read', () => {
  const text = readFileSync(new URL('../fixtures/log-v1-inputs.jsonl', import.meta.url), 'utf8');

  it('whole: every line checked, its checkpoints and closing hash of 16 hex digits', () => {
    const log = readLog(text, 'v1.jsonl');
    expect(log.header.version).toBe(1);
    expect(log.header.engine).toBe('0.5.1');
    expect(log.events).toHaveLength(810);
    expect(log.checkpoints).toHaveLength(4);
    expect(log.end?.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(log.warnings).toEqual([]);
  });

  it('seeks from its checkpoints (16-hex-digit hashes, the FNV-1a chain carried on from them)', () => {
    const file = new LogFile(memorySource(text, 'v1.jsonl'));
    const at = stateAtSeq(file, 650);
    expect(at.event.seq).toBe(650);
    expect(at.from).toBeGreaterThan(0);
    expect(at.folded).toBeLessThanOrEqual(251);
    // The same state as a fold from the top.
    const top = readLog(text, 'v1.jsonl').events[650];
    expect(at.event).toEqual(top);
  });

  it('replays identical under this engine, with a note that another engine wrote it', () => {
    const result = replay(new LogFile(memorySource(text, 'v1.jsonl')));
    expect(result.divergence).toBeUndefined();
    expect(result.events).toBe(810);
    expect(result.engineNote).toContain('vmmsim 0.5.1');
    expect(result.warnings).toEqual([]);
  });

  it('a changed event resealed with its own checksum is a divergence at its seq, and the log is not called cut', () => {
    const lines = text.split('\n');
    const at = lines.findIndex((line, index) => index > 400 && line.includes('"type":"exit.io"'));
    const seq = (JSON.parse(lines[at]) as { seq: number }).seq;
    lines[at] = lines[at].replace(/"pc":(\d+)/, (_, pc: string) => `"pc":${Number(pc) + 4}`);
    const chain = new FnvChain();
    const resealed = lines.map((line) => {
      if (line === '') return line;
      let base = `${line.slice(0, line.length - 16)}}`;
      if (base.startsWith('{"checkpoint":') || base.startsWith('{"end":')) base = base.replace(/"hash":"[0-9a-f]{16}"/, `"hash":"${chain.digest()}"`);
      return `${base.slice(0, -1)},"h":"${chain.add(base)}"}`;
    });
    const result = replay(new LogFile(memorySource(resealed.join('\n'), 'v1.jsonl')));
    expect(result.divergence?.seq).toBe(seq);
    expect(result.divergence?.line).toBe(at + 1);
    expect(result.truncated).toBe(false);
    expect(result.warnings).toEqual([]);
  });

  it('a changed character is named at its line, as in format 2', () => {
    const lines = text.split('\n');
    const changed = lines[300].replace(/"t":(\d)/, (_, digit: string) => `"t":${(Number(digit) + 1) % 10}`);
    expect(changed).not.toBe(lines[300]);
    lines[300] = changed;
    expect(() => readLog(lines.join('\n'), 'v1.jsonl')).toThrow('v1.jsonl:301: checksum mismatch: this line was changed');
  });
});

describe('a log of a format newer than this engine', () => {
  it('is refused by its version, not as a checksum mismatch (its checksum may be one this engine cannot compute)', () => {
    const line = '{"format":"vmmsim-log","version":3,"engine":"9.0.0","seed":1,"scenario":{},"h":"00000000"}\n';
    expect(() => readLog(line, 'new.jsonl')).toThrow(/^new\.jsonl:1: log format version 3 is newer than this engine reads \(2\)/);
  });
});
